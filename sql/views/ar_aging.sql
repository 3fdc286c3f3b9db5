-- ar_aging (a view in billing.duckdb): one row per client x as-of day x aging bucket that
-- holds money (billing-rules.md section 7, "Aging"), for every day the warehouse has the
-- client's account status. As of day D the unpaid part of each invoice (payments and
-- credits settle the oldest-due first, as for past_due) falls in one bucket by days past
-- due, D - due_date: current (not yet due), 1-30, 31-60, 61-90, over-90. A client's buckets
-- add up to its balance_owed whenever that is positive; a client in credit has no rows.
-- Built from the published ledger and account_status only.
with days as (
    select distinct reseller_id, client_id, as_of from account_status
),

entries as (
    select days.as_of, ledger.*
    from days
    inner join ledger
        on ledger.reseller_id = days.reseller_id
        and ledger.client_id = days.client_id
        and ledger.entry_at < days.as_of + interval 1 day
    where ledger.amount <> 0
),

debits as (
    select
        reseller_id, client_id, as_of, currency, amount, due_date,
        sum(amount) over (
            partition by reseller_id, client_id, as_of order by due_date, entry_at, entry_id
        ) as due_through,
    from entries
    where amount > 0
),

credited as (
    select reseller_id, client_id, as_of, -sum(amount) as credited from entries where amount < 0 group by all
),

unpaid as (
    select
        debits.reseller_id,
        debits.client_id,
        debits.currency,
        debits.as_of,
        greatest(0, least(debits.amount, debits.due_through - coalesce(credited.credited, 0))) as unpaid,
        date_diff('day', debits.due_date, debits.as_of) as days_past_due,
    from debits
    left join credited using (reseller_id, client_id, as_of)
),

bucketed as (
    select
        *,
        case
            when days_past_due <= 0 then 'current'
            when days_past_due <= 30 then '1-30'
            when days_past_due <= 60 then '31-60'
            when days_past_due <= 90 then '61-90'
            else 'over-90'
        end as bucket,
        case
            when days_past_due <= 0 then 0
            when days_past_due <= 30 then 1
            when days_past_due <= 60 then 2
            when days_past_due <= 90 then 3
            else 4
        end as bucket_order,
    from unpaid
    where unpaid > 0
)

select
    reseller_id,
    client_id,
    currency,
    as_of,
    bucket,
    bucket_order,
    cast(sum(unpaid) as decimal(18, 2)) as amount,
from bucketed
group by all
order by reseller_id, client_id, as_of, bucket_order
