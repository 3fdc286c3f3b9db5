-- invoice_explained (`billing explain --invoice ID`): one row per line of every revision of
-- the invoice, with the formula worked out in numbers, how the cycle's units split
-- (trial / blocked / included / bonus / billable, from usage_summary) and which level and
-- which pricing rows supplied each option (price_source).
with lines as (
    select * from invoice_lines where invoice_id = $invoice_id
),

units as (
    select reseller_id, client_id, item_code, bill_date, window_start, window_end, quantity, trial_units,
        blocked_units, included_units_used, bonus_units_used, billable_units,
    from usage_summary
    where (reseller_id, client_id) in (select (reseller_id, client_id) from lines)
),

final as (
    select
        lines.revision,
        lines.line_no,
        lines.item_code,
        lines.line_type,
        lines.quantity::varchar || ' x ' || lines.unit_price::varchar || ' = ' || lines.amount::varchar
            || case
                when lines.line_type = 'cycle_fee'
                    then ' (fee in advance for ' || lines.window_start::varchar || ' to ' || lines.window_end::varchar || ')'
                when lines.line_type in ('usage', 'overage', 'minimum') and units.quantity is not null
                    then ' (usage ' || lines.window_start::varchar || ' to ' || lines.window_end::varchar
                        || ': Q ' || units.quantity::varchar || ' after ' || units.trial_units::varchar
                        || ' trial units; blocked ' || units.blocked_units::varchar
                        || ', included ' || units.included_units_used::varchar
                        || ', bonus ' || units.bonus_units_used::varchar
                        || ', billable ' || units.billable_units::varchar || ')'
                else ''
            end as formula,
        lines.price_source,
    from lines
    left join units
        on units.reseller_id = lines.reseller_id
        and units.client_id = lines.client_id
        and units.item_code = lines.item_code
        and units.bill_date = lines.invoice_date
        and units.window_start = lines.window_start
)

select * from final
order by revision, line_no
