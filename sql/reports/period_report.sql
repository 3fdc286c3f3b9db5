-- period_report (`billing report`): one row per chart bar or table row of the period's
-- report: chart, label, value (and currency), ordered as drawn.
with lines as (
    select l.*, i.currency from invoice_lines l join invoices i using (invoice_id, revision)
    where l.period = $period
),

groups as (
    select reseller_id, client_id, arg_max(group_id, as_of) as group_id from account_status group by all
),

by_item as (
    select 'revenue by item' as chart, item_code || ' (' || reseller_id || ')' as label, currency, sum(amount) as value
    from lines group by all
),

by_group as (
    select 'revenue by group' as chart,
        coalesce(groups.group_id, '(no group)') || ' (' || lines.reseller_id || ')' as label, lines.currency,
        sum(lines.amount) as value
    from lines left join groups using (reseller_id, client_id)
    group by all
),

top_clients as (
    select 'top clients' as chart, client_id || ' (' || reseller_id || ')' as label, currency, sum(amount) as value
    from lines group by all order by value desc limit 10
),

usage_share as (
    select 'overage and minimum share' as chart, line_type || ' (' || reseller_id || ')' as label, currency,
        sum(amount) as value
    from lines where line_type in ('usage', 'overage', 'minimum', 'cycle_fee') group by all
),

rejects_by_reason as (
    select 'rejects by reason' as chart, reason as label, '' as currency, count(*) as value
    from rejects where period = $period group by all
),

locked as (
    select 'locked clients' as chart, client_id || ' (' || coalesce(reason, '') || ')' as label, currency,
        past_due as value
    from account_status
    where period = $period and status = 'locked' and as_of = (select max(as_of) from account_status where period = $period)
)

select chart, label, currency, cast(value as decimal(18, 2)) as value
from (
    select * from by_item union all select * from by_group union all select * from top_clients
    union all select * from usage_share union all select * from rejects_by_reason union all select * from locked
)
order by chart, value desc, label
