-- simulation_by_client: one row per client of the simulated period,
-- baseline vs simulated, the difference (simulated - baseline) and the change in percent of
-- the baseline (null when the baseline is 0); largest differences first.
with lines as (
    select * from simulation_lines
),

compared as (
    select reseller_id, client_id, currency, sum(baseline) as baseline, sum(simulated) as simulated from lines group by all
)

select
    reseller_id, client_id, currency,
    cast(baseline as decimal(18, 2)) as baseline,
    cast(simulated as decimal(18, 2)) as simulated,
    cast(simulated - baseline as decimal(18, 2)) as difference,
    -- a percentage, not money: the quotient is rounded to 2 decimals and kept as a DECIMAL
    case when baseline <> 0 then cast(round(100 * (simulated - baseline) / abs(baseline), 2) as decimal(18, 2)) end
        as change_pct,
from compared
order by abs(simulated - baseline) desc, reseller_id, client_id, currency
