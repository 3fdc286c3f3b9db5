-- int_input_rows_reconciled: one row per extract table: rows read = rows used + rows
-- rejected + exact duplicates collapsed (data-contract.md "Extracts"). Recorded in runs.
with counts as (
    select
        'resellers' as table_name,
        count(*) as rows_read,
        count(*) filter (where reject_reason is null and not is_duplicate) as rows_used,
        count(*) filter (where reject_reason is not null) as rows_rejected,
        count(*) filter (where reject_reason is null and is_duplicate) as duplicates_collapsed,
    from int_resellers_validated
    union all
    select
        'groups' as table_name,
        count(*) as rows_read,
        count(*) filter (where reject_reason is null and not is_duplicate) as rows_used,
        count(*) filter (where reject_reason is not null) as rows_rejected,
        count(*) filter (where reject_reason is null and is_duplicate) as duplicates_collapsed,
    from int_groups_validated
    union all
    select
        'clients' as table_name,
        count(*) as rows_read,
        count(*) filter (where reject_reason is null and not is_duplicate) as rows_used,
        count(*) filter (where reject_reason is not null) as rows_rejected,
        count(*) filter (where reject_reason is null and is_duplicate) as duplicates_collapsed,
    from int_clients_validated
    union all
    select
        'billing_items' as table_name,
        count(*) as rows_read,
        count(*) filter (where reject_reason is null and not is_duplicate) as rows_used,
        count(*) filter (where reject_reason is not null) as rows_rejected,
        count(*) filter (where reject_reason is null and is_duplicate) as duplicates_collapsed,
    from int_billing_items_validated
    union all
    select
        'pricing' as table_name,
        count(*) as rows_read,
        count(*) filter (where reject_reason is null and not is_duplicate) as rows_used,
        count(*) filter (where reject_reason is not null) as rows_rejected,
        count(*) filter (where reject_reason is null and is_duplicate) as duplicates_collapsed,
    from int_pricing_validated
    union all
    select
        'usage_events' as table_name,
        count(*) as rows_read,
        count(*) filter (where reject_reason is null and not is_duplicate) as rows_used,
        count(*) filter (where reject_reason is not null) as rows_rejected,
        count(*) filter (where reject_reason is null and is_duplicate) as duplicates_collapsed,
    from int_usage_events_validated
    union all
    select
        'lead_price_levels' as table_name,
        count(*) as rows_read,
        count(*) filter (where reject_reason is null and not is_duplicate) as rows_used,
        count(*) filter (where reject_reason is not null) as rows_rejected,
        count(*) filter (where reject_reason is null and is_duplicate) as duplicates_collapsed,
    from int_lead_price_levels_validated
    union all
    select
        'lead_sales' as table_name,
        count(*) as rows_read,
        count(*) filter (where reject_reason is null and not is_duplicate) as rows_used,
        count(*) filter (where reject_reason is not null) as rows_rejected,
        count(*) filter (where reject_reason is null and is_duplicate) as duplicates_collapsed,
    from int_lead_sales_validated
    union all
    select
        'lead_returns' as table_name,
        count(*) as rows_read,
        count(*) filter (where reject_reason is null and not is_duplicate) as rows_used,
        count(*) filter (where reject_reason is not null) as rows_rejected,
        count(*) filter (where reject_reason is null and is_duplicate) as duplicates_collapsed,
    from int_lead_returns_validated
    union all
    select
        'manual_items' as table_name,
        count(*) as rows_read,
        count(*) filter (where reject_reason is null and not is_duplicate) as rows_used,
        count(*) filter (where reject_reason is not null) as rows_rejected,
        count(*) filter (where reject_reason is null and is_duplicate) as duplicates_collapsed,
    from int_manual_items_validated
    union all
    select
        'payments' as table_name,
        count(*) as rows_read,
        count(*) filter (where reject_reason is null and not is_duplicate) as rows_used,
        count(*) filter (where reject_reason is not null) as rows_rejected,
        count(*) filter (where reject_reason is null and is_duplicate) as duplicates_collapsed,
    from int_payments_validated
),

final as (
    select
        *,
        rows_read = rows_used + rows_rejected + duplicates_collapsed as is_reconciled,
    from counts
)

select * from final
