-- demo_prepaid_balances (`billing demo` summary): prepaid balances.
select client_id, reseller_id, prepaid_balance, balance_owed
from account_status
where prepaid_balance <> 0 and as_of = (select max(latest.as_of) from account_status as latest)
order by client_id
limit 10
