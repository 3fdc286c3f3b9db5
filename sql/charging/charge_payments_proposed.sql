-- charge_payments_proposed: one ledger entry per collection the attempt log shows
-- (billing-rules.md section 9: results come back into the ledger), posted through the
-- ledger template like every other entry, so an entry is never posted twice:
--   charge_payment    a card payment that succeeded, or an ACH presentment written to a file
--                     (`submitted`: most debits settle, so the ledger counts it paid that
--                     day), one per presentment, dated when it happened;
--   payment_reversal  an ACH return (+amount) dated the return file's day, due on the
--                     invoice's own due date, so the invoice owes again (and is past due)
--                     from where it was.
with charges as (
    select charges.*, invoices.due_date,
    from prior_all_charges as charges
    left join prior_invoices as invoices using (invoice_id, revision)
),

collected as (
    select
        attempts.charge_id,
        attempts.attempt_no,
        min(attempts.attempted_at) as entry_at,
    from prior_charge_attempts as attempts
    inner join charges using (charge_id)
    where attempts.outcome = 'submitted' or (attempts.outcome = 'succeeded' and charges.processor <> 'ach')
    group by all
),

returned as (
    select charge_id, attempt_no, min(attempted_at) as entry_at,
    from prior_charge_attempts
    where outcome = 'returned'
    group by all
),

entries as (
    select 'charge_payment' as entry_type, collected.charge_id, collected.attempt_no, collected.entry_at,
        -1 as sign, null::date as due_date,
    from collected
    union all
    select 'payment_reversal' as entry_type, returned.charge_id, returned.attempt_no, returned.entry_at,
        1 as sign, charges.due_date,
    from returned
    inner join charges using (charge_id)
)

select
    ledger_entry_id_for(entries.entry_type, charges.reseller_id, charges.client_id,
        entries.charge_id || '#' || entries.attempt_no::varchar) as entry_id,
    charges.reseller_id,
    charges.client_id,
    entries.entry_type,
    entries.charge_id || '#' || entries.attempt_no::varchar as reference,
    charges.invoice_id,
    charges.currency,
    cast(entries.sign * charges.amount as decimal(18, 2)) as amount,
    cast(0 as decimal(18, 2)) as prepaid_amount,
    entries.entry_at,
    entries.due_date,
from entries
inner join charges using (charge_id)
