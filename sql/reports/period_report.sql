-- period_report (`billing report`): one row per bar of the period's charts (and row of the
-- table beside each): section, currency (charts never mix currencies), label, value, and
-- the order drawn. Money sections are DECIMAL; counts are whole numbers (is_count).
with status_day as (
    select max(as_of) as as_of from account_status where as_of <= $as_of
),

lines as (
    select invoice_lines.*, invoices.currency
    from invoice_lines
    inner join invoices using (invoice_id, revision)
    where invoice_lines.period = $period
),

groups as (
    select reseller_id, client_id, arg_max(group_id, as_of) as group_id from account_status group by all
),

trend as (
    select 'revenue over 12 periods' as section, currency, period || ' ' || reseller_id as label,
        billed - credited as value, false as is_count, row_number() over (order by period, reseller_id) as sort,
    from revenue_by_period
    where period <= $period
        and period > strftime(cast(($period || '-01')::date - interval 12 month as date), '%Y-%m')
),

aging as (
    select 'receivables aging' as section, currency, bucket as label, sum(amount) as value, false as is_count,
        min(bucket_order) as sort,
    from ar_aging
    where as_of = (select as_of from status_day)
    group by all
),

past_due_clients as (
    select 'largest past-due clients' as section, currency, label, value, false as is_count, 0 as sort,
    from (
        select currency, client_id || ' (' || reseller_id || ')' as label, sum(amount) as value,
        from ar_aging
        where as_of = (select as_of from status_day) and bucket <> 'current'
        group by all
    ) as owed
    qualify row_number() over (partition by currency order by value desc, label) <= 10
),

by_item as (
    select 'revenue by item' as section, currency, item_code || ' (' || reseller_id || ')' as label,
        sum(amount) as value, false as is_count, 0 as sort,
    from lines
    group by all
),

by_group as (
    select 'revenue by group' as section, lines.currency,
        coalesce(groups.group_id, '(no group)') || ' (' || lines.reseller_id || ')' as label,
        sum(lines.amount) as value, false as is_count, 0 as sort,
    from lines
    left join groups using (reseller_id, client_id)
    group by all
),

rejects_by_reason as (
    select 'rejects by reason' as section, '' as currency, table_name || ': ' || reason as label,
        count(*) as value, true as is_count, 0 as sort,
    from rejects
    where period = $period
    group by all
)

select section, currency, label, cast(value as decimal(18, 2)) as value, is_count, sort
from (
    select * from trend
    union all select * from aging
    union all select * from past_due_clients
    union all select * from by_item
    union all select * from by_group
    union all select * from rejects_by_reason
) as sections
order by section, currency, sort, value desc, label
