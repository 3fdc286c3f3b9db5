-- invoices_current (a view in billing.duckdb): one row per invoice, its current state =
-- the sum of all its revisions (billing-rules.md section 8). kind and invoice_date come
-- from revision 1; last_revision / last_run_id say which run changed it last.
select
    invoice_id,
    any_value(reseller_id) as reseller_id,
    any_value(client_id) as client_id,
    arg_min(kind, revision) as kind,
    any_value(period) as period,
    any_value(currency) as currency,
    max(revision) as last_revision,
    arg_max(run_id, revision) as last_run_id,
    sum(subtotal) - sum(credits) as total,
    min(invoice_date) as invoice_date,
    arg_max(due_date, revision) as due_date,
from invoices
group by invoice_id
