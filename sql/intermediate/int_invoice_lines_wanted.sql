-- int_invoice_lines_wanted: one row per invoice line the current extracts call for in the
-- run's range, whatever its kind: cycle lines (fees and usage), manual items, lead sales
-- and returns. line_key tells apart lines of one item and line type (a lead type at a
-- price, a manual item); it is empty for cycle lines.
with cycle_lines as (
    select
        reseller_id, client_id, 'cycle' as kind, item_code, line_type, '' as line_key, description,
        price_source, currency, line_sort, quantity, unit_price, amount, invoice_date, window_start, window_end,
    from int_cycle_lines_priced
),

final as (
    select * from cycle_lines
    union all by name
    select * from int_manual_lines_priced
    union all by name
    select * from int_lead_lines_priced
)

select * from final
