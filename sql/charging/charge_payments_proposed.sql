-- charge_payments_proposed: one ledger entry per charge a submission saw succeed
-- (billing-rules.md section 9: results come back into the ledger); posted through the
-- ledger template like every other entry, so an entry is never posted twice.
select
    ledger_entry_id_for('charge_payment', reseller_id, client_id, charge_id) as entry_id,
    reseller_id,
    client_id,
    'charge_payment' as entry_type,
    charge_id as reference,
    invoice_id,
    currency,
    cast(-amount as decimal(18, 2)) as amount,
    cast(0 as decimal(18, 2)) as prepaid_amount,
    paid_at as entry_at,
    null::date as due_date,
from charges_paid
