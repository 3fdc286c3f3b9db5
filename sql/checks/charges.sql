-- check frame for the charges suites: one row per pending charge this run adds (no
-- charge of 0 or less is ever written).
select charge_id, idempotency_key, processor, kind, status, amount from charges
