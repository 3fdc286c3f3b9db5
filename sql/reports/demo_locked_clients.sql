-- demo_locked_clients (`billing demo` summary): locked clients.
select client_id, reseller_id, past_due, locked_since, reason
from account_status
where status = 'locked' and as_of = (select max(latest.as_of) from account_status as latest)
order by past_due desc
limit 10
