-- invoice_preview: one row per client x line of the cycle invoice each client's next bill
-- date would produce if no usage arrived after the end of the as-of day D (billing-rules.md
-- section 10). Built by a preview build: the run's range is the month ahead of D
-- ([D + 1, D + 32)), usage is cut at D + 1 (run_params.usage_until), and every line comes
-- from the same models that bill (int_invoice_lines_wanted): same lines, amounts and
-- price_source. Not an invoice: no invoice id, no charge, no ledger entry.
--   next bill date B: the first bill date after D (not before the client's first one);
--   clients cancelled on or before D have no preview; only `cycle` invoices are previewed.
--   Beside every line of an item whose usage window B closes: included units left, bonus
--   units left (the pool after this window's use so far) and units left before max_units
--   (null without a maximum). An item with usage in that window but no line at all (every
--   unit free) gets one row of line_type `allotment` (quantity = units used, amount 0), so
--   what is left always shows.
-- stage: preview (built by transforms/preview.py, not by a billing run)
with params as (
    select * from run_params
),

clients as (
    select
        clients.reseller_id,
        clients.client_id,
        clients.currency,
        greatest(clients.first_bill_date,
            first_bill_date_on_or_after(cast(params.as_of + interval 1 day as date), clients.bill_day)) as bill_date,
    from int_clients_billable as clients
    cross join params
    where clients.cancel_date is null or clients.cancel_date > params.as_of
),

lines as (
    select lines.*
    from int_invoice_lines_wanted as lines
    inner join clients
        on clients.reseller_id = lines.reseller_id
        and clients.client_id = lines.client_id
        and clients.bill_date = lines.invoice_date
    where lines.kind = 'cycle'
),

windows as (
    select
        cycles.reseller_id,
        cycles.client_id,
        cycles.item_code,
        cycles.quantity,
        cycles.window_start,
        cycles.window_end,
        greatest(cycles.included_units - cycles.included_units_used, 0) as included_units_left,
        greatest(cycles.bonus_available - cycles.bonus_units_used, 0) as bonus_units_left,
        case when cycles.max_units is not null then greatest(cycles.max_units - cycles.quantity, 0) end
            as units_left_before_max,
    from int_allotments_applied_across_cycles as cycles
    inner join clients
        on clients.reseller_id = cycles.reseller_id
        and clients.client_id = cycles.client_id
        and clients.bill_date = cycles.usage_bill_date
    where cycles.is_enabled
),

allotment_rows as (
    select
        windows.reseller_id, windows.client_id, 'cycle' as kind, windows.item_code, 'allotment' as line_type,
        '' as line_key, 'units used so far, all free' as description, '' as price_source, clients.currency,
        99 as line_sort, windows.quantity, cast(0 as decimal(18, 6)) as unit_price, cast(0 as decimal(18, 2)) as amount,
        clients.bill_date as invoice_date, windows.window_start, windows.window_end,
    from windows
    inner join clients using (reseller_id, client_id)
    anti join lines using (reseller_id, client_id, item_code)
    where windows.quantity > 0
),

final as (
    select
        all_lines.reseller_id,
        all_lines.client_id,
        params.as_of,
        all_lines.invoice_date as bill_date,
        all_lines.currency,
        row_number() over (
            partition by all_lines.reseller_id, all_lines.client_id
            order by all_lines.line_sort, all_lines.item_code, all_lines.line_type, all_lines.line_key
        ) as line_no,
        all_lines.item_code,
        all_lines.line_type,
        all_lines.description,
        all_lines.price_source,
        cast(all_lines.quantity as decimal(18, 6)) as quantity,
        cast(all_lines.unit_price as decimal(18, 6)) as unit_price,
        cast(all_lines.amount as decimal(18, 2)) as amount,
        cast(windows.included_units_left as decimal(18, 6)) as included_units_left,
        cast(windows.bonus_units_left as decimal(18, 6)) as bonus_units_left,
        cast(windows.units_left_before_max as decimal(18, 6)) as units_left_before_max,
        all_lines.window_start,
        all_lines.window_end,
        strftime(params.as_of, '%Y-%m') as period,
    from (select * from lines union all by name select * from allotment_rows) as all_lines
    cross join params
    left join windows using (reseller_id, client_id, item_code)
)

select * from final
order by reseller_id, client_id, line_no
