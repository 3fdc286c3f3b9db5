-- check frame for the account_status suites: one row per client status this run writes.
select client_id || '#' || as_of::varchar as status_key, status, balance_owed, past_due, prepaid_balance,
    prepaid_balance >= 0 as is_prepaid_non_negative,
from account_status
