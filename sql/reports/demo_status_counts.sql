-- demo_status_counts (`billing demo` summary): account status at the end of the last period.
select
    reseller_id,
    status,
    count(*) as clients,
    sum(balance_owed) as owed,
    sum(past_due) as past_due,
    sum(prepaid_balance) as prepaid
from account_status
where as_of = (select max(latest.as_of) from account_status as latest)
group by all
order by all
