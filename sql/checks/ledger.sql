-- check frame for the ledger suites: one row per entry this run posts.
select entry_id, entry_type, amount, amount = round(amount, 2) as is_at_currency_scale from ledger
