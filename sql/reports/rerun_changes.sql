-- rerun_changes (`billing diff --period P`): what the latest run of the period changed,
-- one row per adjusted line: client, invoice, revision and the per-line delta.
with latest_run as (
    select run_id
    from runs
    where period = $period
    order by started_at desc, run_id desc
    limit 1
),

final as (
    select
        invoices.client_id,
        invoices.invoice_id,
        invoices.revision,
        invoice_lines.item_code,
        invoice_lines.line_type,
        invoice_lines.quantity,
        invoice_lines.amount,
        invoices.total as invoice_delta,
        invoices.run_id,
    from invoices
    inner join latest_run using (run_id)
    inner join invoice_lines using (invoice_id, revision)
    where invoices.revision > 1
)

select * from final
order by client_id, invoice_id, revision, item_code, line_type
