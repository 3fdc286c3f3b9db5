-- simulation_compared: the simulation's three reports in one pass over simulation_lines
-- (billing-rules.md section 10): by_reseller_item (reseller x currency x item), by_client
-- and by_line (client x invoice x item x line type); baseline vs simulated, the difference
-- (simulated - baseline) and the change in percent of the baseline (null when the baseline
-- is 0); largest differences first within each report. Columns a report does not group by
-- are null in its rows.
with compared as (
    select
        case
            when grouping(line_type) = 0 then 'by_line'
            when grouping(client_id) = 0 then 'by_client'
            else 'by_reseller_item'
        end as report,
        reseller_id, client_id, currency, kind, invoice_date, item_code, line_type,
        sum(baseline) as baseline,
        sum(simulated) as simulated,
    from simulation_lines
    group by grouping sets (
        (reseller_id, currency, item_code),
        (reseller_id, client_id, currency),
        (reseller_id, client_id, currency, kind, invoice_date, item_code, line_type)
    )
)

select
    report, reseller_id, client_id, currency, kind, invoice_date, item_code, line_type,
    cast(baseline as decimal(18, 2)) as baseline,
    cast(simulated as decimal(18, 2)) as simulated,
    cast(simulated - baseline as decimal(18, 2)) as difference,
    -- a percentage, not money: the quotient is rounded to 2 decimals and kept as a DECIMAL
    case when baseline <> 0 then cast(round(100 * (simulated - baseline) / abs(baseline), 2) as decimal(18, 2)) end
        as change_pct,
from compared
order by report, abs(simulated - baseline) desc, reseller_id, client_id, currency, kind, invoice_date, item_code,
    line_type
