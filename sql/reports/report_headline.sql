-- report_headline (`billing report`): one row per reseller x currency: the period's headline
-- figures (revenue_by_period) and, as of the status day (the last day on or before the
-- report's as-of date with account status), past due and clients by status; the period's
-- rejected input rows that name the reseller (rows naming none are in the rejects section).
with status_day as (
    select max(as_of) as as_of from account_status where as_of <= $as_of
),

revenue as (
    select * from revenue_by_period where period = $period
),

statuses as (
    select
        reseller_id, currency,
        sum(past_due) as past_due,
        count(*) filter (where status = 'active') as active_clients,
        count(*) filter (where status = 'trial') as trial_clients,
        count(*) filter (where status = 'locked') as locked_clients,
        count(*) filter (where status = 'cancelled') as cancelled_clients,
    from account_status
    where as_of = (select as_of from status_day)
    group by all
),

rejected as (
    select reseller_id, count(*) as rejects from rejects where period = $period group by all
),

pairs as (
    select reseller_id, currency from revenue
    union
    select reseller_id, currency from statuses
)

select
    pairs.reseller_id,
    pairs.currency,
    coalesce(revenue.billed, 0) as billed,
    coalesce(revenue.credited, 0) as credited,
    coalesce(revenue.collected, 0) as collected,
    coalesce(revenue.outstanding, 0) as outstanding,
    cast(coalesce(statuses.past_due, 0) as decimal(18, 2)) as past_due,
    coalesce(revenue.invoices, 0) as invoices,
    coalesce(statuses.active_clients, 0) as active_clients,
    coalesce(statuses.trial_clients, 0) as trial_clients,
    coalesce(statuses.locked_clients, 0) as locked_clients,
    coalesce(statuses.cancelled_clients, 0) as cancelled_clients,
    coalesce(rejected.rejects, 0) as rejects,
    (select as_of from status_day) as status_day,
from pairs
left join revenue using (reseller_id, currency)
left join statuses using (reseller_id, currency)
left join rejected using (reseller_id)
order by pairs.reseller_id, pairs.currency
