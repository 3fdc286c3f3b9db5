-- int_ledger_entries_proposed: one row per ledger entry the extracts and this run's
-- invoices call for up to the run's range end (billing-rules.md section 7): invoice
-- revisions (an adjustment or a credit invoice is a negative amount), payments (negative),
-- prepaid top-ups and drawdowns (which move prepaid_amount, not the balance owed).
-- entry_id is stable, so the ledger can tell what it already holds.
-- Written as Parquet, read through a view (10M events: ~0.45 s against ~0.7 s as a DuckDB table).
-- materialize: parquet
with params as (
    select * from run_params
),

clients as (
    select reseller_id, client_id, currency, minor_unit from int_clients_billable
),

invoice_entries as (
    select
        reseller_id,
        client_id,
        case when revision > 1 then 'adjustment' when total < 0 then 'credit' else 'invoice' end as entry_type,
        invoice_id || '#' || revision::varchar as reference,
        invoice_id,
        currency,
        total as amount,
        cast(0 as decimal(18, 2)) as prepaid_amount,
        cast(issued_on as timestamp) as entry_at,
        due_date,
    from invoices
),

payment_entries as (
    select
        payments.reseller_id,
        payments.client_id,
        'payment' as entry_type,
        payments.payment_id as reference,
        payments.invoice_id,
        clients.currency,
        -round_money(payments.amount, clients.minor_unit) as amount,
        cast(0 as decimal(18, 2)) as prepaid_amount,
        payments.paid_at as entry_at,
        null::date as due_date,
    from int_payments_validated as payments
    inner join clients using (reseller_id, client_id)
    cross join params
    where payments.reject_reason is null and not payments.is_duplicate and payments.paid_at < params.range_end
),

entries as (
    select
        ledger_entry_id_for(entry_type, reseller_id, client_id, reference) as entry_id,
        *,
    from (
        select * from invoice_entries
        union all by name
        select * from payment_entries
        union all by name
        select * from int_prepaid_ledger_entries
    ) as all_entries
)

select * from entries
