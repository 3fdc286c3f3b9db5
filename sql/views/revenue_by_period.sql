-- revenue_by_period (a view in billing.duckdb): one row per reseller x currency x period
-- (the month of the invoice dates; an adjustment stays in its invoice's period):
--   billed      the positive invoice revisions of the period (first revisions and upward
--               adjustments),
--   credited    the negative ones, as a positive number (downward adjustments, credit notes),
--   collected   payments received in the month (extract payments and processor charges),
--   outstanding what clients owed at the end of the month: the sum of every client's
--               positive ledger balance then (a client in credit owes nothing),
--   invoices    the invoices with a revision in the period.
-- Built from the published invoices and ledger only.
with invoiced as (
    select
        reseller_id, currency, period,
        coalesce(sum(total) filter (where total > 0), 0) as billed,
        coalesce(-sum(total) filter (where total < 0), 0) as credited,
        count(distinct invoice_id) as invoices,
    from invoices
    group by all
),

collected as (
    select reseller_id, currency, period, -sum(amount) as collected,
    from ledger
    where entry_type in ('payment', 'charge_payment')
    group by all
),

moves as (
    select reseller_id, client_id, currency, period, sum(amount) as change from ledger group by all
),

periods as (
    select reseller_id, currency, period from invoiced
    union
    select reseller_id, currency, period from collected
),

client_balances as (
    select periods.reseller_id, periods.currency, periods.period, moves.client_id, sum(moves.change) as balance,
    from periods
    inner join moves
        on moves.reseller_id = periods.reseller_id
        and moves.currency = periods.currency
        and moves.period <= periods.period
    group by all
),

outstanding as (
    select reseller_id, currency, period, sum(greatest(balance, 0)) as outstanding,
    from client_balances
    group by all
)

select
    periods.reseller_id,
    periods.currency,
    periods.period,
    cast(coalesce(invoiced.billed, 0) as decimal(18, 2)) as billed,
    cast(coalesce(invoiced.credited, 0) as decimal(18, 2)) as credited,
    cast(coalesce(collected.collected, 0) as decimal(18, 2)) as collected,
    cast(coalesce(outstanding.outstanding, 0) as decimal(18, 2)) as outstanding,
    coalesce(invoiced.invoices, 0) as invoices,
from periods
left join invoiced using (reseller_id, currency, period)
left join collected using (reseller_id, currency, period)
left join outstanding using (reseller_id, currency, period)
order by reseller_id, currency, period
