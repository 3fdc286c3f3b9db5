-- int_lead_lines_priced: one row per `leads` invoice line up to the run's range end (the
-- range itself is applied in int_invoice_lines_wanted; prepaid balances need the earlier
-- days): client x day x lead type x price (billing-rules.md section 5). Lead sales are billed in
-- real time: each day's sales and returns of a client make one leads invoice dated that
-- day. Sales of one type at one price share a line (quantity = leads); a return credits
-- the price its sale was billed at (lead_return, a negative amount).
-- Written as Parquet, read through a view (10M events: 0.13 s against 0.17 s as a DuckDB table).
-- materialize: parquet
with params as (
    select * from run_params
),

clients as (
    select reseller_id, client_id, currency, minor_unit from int_clients_billable
),

sales as (
    select reseller_id, client_id, lead_type, billed_price as price, price_source,
        cast(sold_at as date) as invoice_date, 'lead_sale' as line_type, 1 as sign,
    from int_lead_sales_validated
    where reject_reason is null and not is_duplicate
),

returned as (
    select reseller_id, client_id, lead_type, credited_price as price, price_source,
        cast(returned_at as date) as invoice_date, 'lead_return' as line_type, -1 as sign,
    from int_lead_returns_validated
    where reject_reason is null and not is_duplicate
),

grouped as (
    select
        reseller_id, client_id, invoice_date, line_type, lead_type, price, price_source, sign,
        count(*) as leads,
    from (select * from sales union all select * from returned) as sold_and_returned
    cross join params
    where invoice_date < params.range_end
    group by all
),

final as (
    select
        grouped.reseller_id,
        grouped.client_id,
        'leads' as kind,
        'leads' as item_code,
        grouped.line_type,
        coalesce(grouped.lead_type, '') || '|' || grouped.price::varchar || '|' || grouped.price_source as line_key,
        case grouped.line_type when 'lead_sale' then 'Lead sales - ' else 'Lead returns - ' end
            || coalesce(grouped.lead_type, 'untyped') || ' at ' || grouped.price::varchar as description,
        grouped.price_source,
        clients.currency,
        case grouped.line_type when 'lead_sale' then 1 else 2 end as line_sort,
        cast(grouped.leads as decimal(18, 6)) as quantity,
        cast(grouped.sign * grouped.price as decimal(18, 6)) as unit_price,
        round_money(cast(grouped.sign * grouped.leads as decimal(38, 6)) * cast(grouped.price as decimal(38, 6)),
            clients.minor_unit) as amount,
        grouped.invoice_date,
    from grouped
    inner join clients using (reseller_id, client_id)
)

select * from final
