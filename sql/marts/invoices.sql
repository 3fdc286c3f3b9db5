-- invoices: one row per invoice revision this run adds (data-contract.md "Outputs";
-- billing-rules.md sections 7-8). Revision 1 is the invoice as first billed (kind cycle,
-- leads or manual; issued on its date, due net_days later); later revisions are adjustments: same
-- invoice_id and invoice_date (so they stay in their period), issued on the run's as-of
-- date and due net_days after it. subtotal = the sum of positive lines, credits = the sum
-- of negative lines as a positive number, total = subtotal - credits = the sum of lines.
-- Written as Parquet, read through a view (10M events: 0.26 s against 0.33 s as a DuckDB table).
-- materialize: parquet
with lines as (
    select * from invoice_lines
),

params as (
    select * from run_params
),

resellers as (
    select reseller_id, net_days from int_resellers_validated where reject_reason is null and not is_duplicate
),

totals as (
    select
        invoice_id,
        revision,
        reseller_id,
        client_id,
        invoice_kind,
        currency,
        period,
        invoice_date,
        sum(amount) filter (where amount > 0) as subtotal,
        -sum(amount) filter (where amount < 0) as credits,
        sum(amount) as total,
        count(*) as line_count,
    from lines
    group by all
),

final as (
    select
        totals.invoice_id,
        totals.revision,
        totals.reseller_id,
        totals.client_id,
        case when totals.revision = 1 then totals.invoice_kind else 'adjustment' end as kind,
        totals.period,
        totals.currency,
        'issued' as status,
        params.run_id,
        totals.line_count,
        cast(coalesce(totals.subtotal, 0) as decimal(18, 2)) as subtotal,
        cast(coalesce(totals.credits, 0) as decimal(18, 2)) as credits,
        cast(totals.total as decimal(18, 2)) as total,
        totals.invoice_date,
        case when totals.revision = 1 then totals.invoice_date else params.as_of end as issued_on,
        cast(
            case when totals.revision = 1 then totals.invoice_date else params.as_of end
            + to_days(coalesce(resellers.net_days, 0)) as date
        ) as due_date,
    from totals
    cross join params
    left join resellers using (reseller_id)
)

select * from final
order by reseller_id, period, invoice_id, revision
