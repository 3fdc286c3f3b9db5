-- simulation_lines: one row per line of the period's invoices (every kind) of the baseline
-- and the simulated bill side by side (billing-rules.md section 10): reseller, client,
-- currency, invoice kind and date, item, line type; what the simulation reports sum up.
with sides as (
    select 'baseline' as side, lines.* exclude (currency), invoices.currency, invoices.kind,
        invoices.period as invoice_period,
    from baseline_invoice_lines as lines
    inner join baseline_invoices as invoices using (invoice_id, revision)
    union all by name
    select 'simulated' as side, lines.* exclude (currency), invoices.currency, invoices.kind,
        invoices.period as invoice_period,
    from simulated_invoice_lines as lines
    inner join simulated_invoices as invoices using (invoice_id, revision)
)

select
    reseller_id, client_id, currency, kind, invoice_date, item_code, line_type,
    coalesce(sum(amount) filter (where side = 'baseline'), 0) as baseline,
    coalesce(sum(amount) filter (where side = 'simulated'), 0) as simulated,
from sides
where invoice_period = $period
group by all
