-- check frame for the invoices suites: one row per invoice revision this run adds, with
-- the sum of its lines, whether every amount sits at the currency's scale, and the move of
-- the client's period total against its previous period (warn at more than x3).
with lines as (
    select invoice_id, revision, sum(amount) as lines_total from invoice_lines group by all
),

currencies as (
    select * from stg_currency_minor_units
),

client_totals as (
    select reseller_id, client_id, sum(total) as period_total from invoices group by all
),

previous as (
    select earlier.reseller_id, earlier.client_id, sum(earlier.total) as previous_total,
    from prior_all_invoices as earlier
    cross join run_params
    where earlier.period = strftime(cast(run_params.range_start - interval 1 month as date), '%Y-%m')
    group by all
)

select
    invoices.invoice_id,
    invoices.revision,
    invoices.invoice_id || '#' || invoices.revision::varchar as revision_key,
    invoices.kind,
    invoices.status,
    invoices.currency,
    invoices.total,
    coalesce(lines.lines_total, 0) as lines_total,
    invoices.subtotal - invoices.credits as subtotal_less_credits,
    coalesce(currencies.minor_unit, 2) = 2
        or (invoices.total = round(invoices.total, 0) and invoices.subtotal = round(invoices.subtotal, 0))
        as is_at_currency_scale,
    coalesce(previous.previous_total > 0 and (client_totals.period_total > 3 * previous.previous_total
        or client_totals.period_total * 3 < previous.previous_total), false) as has_moved_over_3x,
from invoices
left join lines using (invoice_id, revision)
left join currencies using (currency)
left join client_totals using (reseller_id, client_id)
left join previous using (reseller_id, client_id)
