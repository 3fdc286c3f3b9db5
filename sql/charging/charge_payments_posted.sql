-- charge_payments_posted: one ledger entry per charge a submission saw succeed
-- (billing-rules.md section 9: results come back into the ledger), continuing each
-- client's running balance; an entry already posted is never posted again.
with entries as (
    select
        'LE-' || upper(left(md5(concat_ws('|', 'charge_payment', reseller_id, client_id, charge_id)), 16)) as entry_id,
        reseller_id,
        client_id,
        'charge_payment' as entry_type,
        charge_id as reference,
        invoice_id,
        currency,
        -amount as amount,
        cast(0 as decimal(18, 2)) as prepaid_amount,
        paid_at as entry_at,
    from charges_paid
),

new_entries as (
    select * from entries anti join prior_ledger using (entry_id)
),

opening as (
    select reseller_id, client_id, sum(amount) as balance, sum(prepaid_amount) as prepaid_balance
    from prior_ledger
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
        cast(new_entries.amount as decimal(18, 2)) as amount,
        new_entries.prepaid_amount,
        cast(coalesce(opening.balance, 0) + sum(new_entries.amount) over running as decimal(18, 2)) as balance_after,
        cast(coalesce(opening.prepaid_balance, 0) as decimal(18, 2)) as prepaid_balance_after,
        new_entries.entry_at,
        null::date as due_date,
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
