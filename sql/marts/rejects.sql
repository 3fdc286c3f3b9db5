-- rejects: one row per input row that breaks the contract (data-contract.md "Extracts"):
-- which table, file and line, the reason, and the row as read (a card number masked).
-- Exact duplicates are not rejects: they are counted once (see runs' row counts).
with rejected as (
    select 'resellers' as table_name, checked.reseller_id, checked._source_file, checked._source_line,
        checked.reject_reason, raw._raw
    from int_resellers_validated as checked
    inner join raw_resellers_rejected as raw using (_source_file, _source_line)
    where checked.reject_reason is not null
    union all
    select 'groups' as table_name, checked.reseller_id, checked._source_file, checked._source_line,
        checked.reject_reason, raw._raw
    from int_groups_validated as checked
    inner join raw_groups_rejected as raw using (_source_file, _source_line)
    where checked.reject_reason is not null
    union all
    select 'clients' as table_name, checked.reseller_id, checked._source_file, checked._source_line,
        checked.reject_reason, raw._raw
    from int_clients_validated as checked
    inner join raw_clients_rejected as raw using (_source_file, _source_line)
    where checked.reject_reason is not null
    union all
    select 'billing_items' as table_name, checked.reseller_id, checked._source_file, checked._source_line,
        checked.reject_reason, raw._raw
    from int_billing_items_validated as checked
    inner join raw_billing_items_rejected as raw using (_source_file, _source_line)
    where checked.reject_reason is not null
    union all
    select 'pricing' as table_name, checked.reseller_id, checked._source_file, checked._source_line,
        checked.reject_reason, raw._raw
    from int_pricing_validated as checked
    inner join raw_pricing_rejected as raw using (_source_file, _source_line)
    where checked.reject_reason is not null
    union all
    select 'usage_events' as table_name, checked.reseller_id, checked._source_file, checked._source_line,
        checked.reject_reason, raw._raw
    from int_usage_events_validated as checked
    inner join raw_usage_events_rejected as raw using (_source_file, _source_line)
    where checked.reject_reason is not null
    union all
    select 'lead_price_levels' as table_name, checked.reseller_id, checked._source_file, checked._source_line,
        checked.reject_reason, raw._raw
    from int_lead_price_levels_validated as checked
    inner join raw_lead_price_levels_rejected as raw using (_source_file, _source_line)
    where checked.reject_reason is not null
    union all
    select 'lead_sales' as table_name, checked.reseller_id, checked._source_file, checked._source_line,
        checked.reject_reason, raw._raw
    from int_lead_sales_validated as checked
    inner join raw_lead_sales_rejected as raw using (_source_file, _source_line)
    where checked.reject_reason is not null
    union all
    select 'lead_returns' as table_name, checked.reseller_id, checked._source_file, checked._source_line,
        checked.reject_reason, raw._raw
    from int_lead_returns_validated as checked
    inner join raw_lead_returns_rejected as raw using (_source_file, _source_line)
    where checked.reject_reason is not null
    union all
    select 'manual_items' as table_name, checked.reseller_id, checked._source_file, checked._source_line,
        checked.reject_reason, raw._raw
    from int_manual_items_validated as checked
    inner join raw_manual_items_rejected as raw using (_source_file, _source_line)
    where checked.reject_reason is not null
    union all
    select 'payments' as table_name, checked.reseller_id, checked._source_file, checked._source_line,
        checked.reject_reason, raw._raw
    from int_payments_validated as checked
    inner join raw_payments_rejected as raw using (_source_file, _source_line)
    where checked.reject_reason is not null
),

params as (
    select * from run_params
),

final as (
    select
        params.run_id,
        rejected.table_name,
        rejected.reseller_id,
        rejected._source_file as source_file,
        cast(rejected._source_line as bigint) as source_line,  -- its type never follows the data
        rejected.reject_reason as reason,
        rejected._raw as raw,
        params.period,
    from rejected
    cross join params
)

select * from final
order by table_name, source_file, source_line
