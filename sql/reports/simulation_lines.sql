-- simulation_lines: one row per line of the period's invoices (every kind) of the baseline
-- and the simulated bill side by side (billing-rules.md section 10): reseller, client,
-- currency, invoice kind and date, item, line type; what the simulation reports sum up.
with baseline as (
    select lines.reseller_id, lines.client_id, invoices.currency, invoices.kind, invoices.invoice_date,
        lines.item_code, lines.line_type, sum(lines.amount) as amount,
    from baseline_invoice_lines as lines
    inner join baseline_invoices as invoices using (invoice_id, revision)
    where invoices.period = $period
    group by all
),

simulated as (
    select lines.reseller_id, lines.client_id, invoices.currency, invoices.kind, invoices.invoice_date,
        lines.item_code, lines.line_type, sum(lines.amount) as amount,
    from simulated_invoice_lines as lines
    inner join simulated_invoices as invoices using (invoice_id, revision)
    where invoices.period = $period
    group by all
)

select
    reseller_id, client_id, currency, kind, invoice_date, item_code, line_type,
    coalesce(baseline.amount, 0) as baseline,
    coalesce(simulated.amount, 0) as simulated,
from baseline
full outer join simulated using (reseller_id, client_id, currency, kind, invoice_date, item_code, line_type)
