-- check frame for the account_status suites: one row per client status this run writes.
-- The key includes the reseller: clients of two resellers may share a client_id
-- (data-contract.md "Extracts").
select id_key([reseller_id, client_id, as_of::varchar]) as status_key, status, balance_owed, past_due, prepaid_balance,
    prepaid_balance >= 0 as is_prepaid_non_negative,
from account_status
