-- ledger: one row per ledger entry this run posts (data-contract.md "Outputs";
-- billing-rules.md section 7). The ledger is each client's itemized history: invoice
-- revisions (an adjustment or a credit invoice is a negative amount), payments (negative),
-- and prepaid top-ups and drawdowns (which move prepaid_amount, not the balance owed).
-- amount > 0 raises the balance owed; balance owed = the sum of amounts.
-- Entries are only ever appended: an entry already in the warehouse (same entry_id) is
-- never posted again or rewritten, and a new entry's running balances continue from the
-- client's posted ones, in time order. Nothing dated on or after the run's range end.
with params as (
    select * from run_params
),

clients as (
    select reseller_id, client_id, currency, minor_unit from int_clients_billable
),

posted as (
    select * from prior_ledger
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
        'LE-' || upper(left(md5(concat_ws('|', entry_type, reseller_id, client_id, reference)), 16)) as entry_id,
        *,
    from (
        select * from invoice_entries
        union all by name
        select * from payment_entries
        union all by name
        select * from int_prepaid_ledger_entries
    )
),

new_entries as (
    select entries.*
    from entries
    anti join posted using (entry_id)
),

opening as (
    select reseller_id, client_id, sum(amount) as balance, sum(prepaid_amount) as prepaid_balance,
    from posted
    group by all
),

final as (
    select
        new_entries.entry_id,
        new_entries.reseller_id,
        new_entries.client_id,
        new_entries.entry_type,
        new_entries.reference,
        new_entries.invoice_id,
        new_entries.currency,
        strftime(new_entries.entry_at, '%Y-%m') as period,
        new_entries.amount,
        new_entries.prepaid_amount,
        cast(coalesce(opening.balance, 0) + sum(new_entries.amount) over running as decimal(18, 2)) as balance_after,
        cast(coalesce(opening.prepaid_balance, 0) + sum(new_entries.prepaid_amount) over running as decimal(18, 2))
            as prepaid_balance_after,
        new_entries.entry_at,
        new_entries.due_date,
    from new_entries
    left join opening using (reseller_id, client_id)
    window running as (
        partition by new_entries.reseller_id, new_entries.client_id
        order by new_entries.entry_at, new_entries.entry_id
        rows between unbounded preceding and current row
    )
)

select * from final
order by reseller_id, client_id, entry_at, entry_id
