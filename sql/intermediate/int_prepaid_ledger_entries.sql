-- int_prepaid_ledger_entries: one row per prepaid ledger entry dated in the run's range
-- (billing-rules.md sections 6-7): each day's top-up (new increments x A, at the start of
-- the day) and drawdown (at its end). They move the prepaid balance (prepaid_amount), not
-- the balance owed: the replenishment invoice itself is what is owed.
with params as (
    select * from run_params
),

clients as (
    select reseller_id, client_id, currency from int_clients_billable
),

days as (
    select days.*
    from int_prepaid_balance_daily as days
    cross join params
    where days.drawn_on >= params.range_start and days.drawn_on < params.range_end
),

topups as (
    select
        reseller_id, client_id, 'prepaid_topup' as entry_type,
        'topup ' || strftime(drawn_on, '%Y-%m-%d') as reference,
        invoice_id_for(reseller_id, client_id, 'replenishment', drawn_on) as invoice_id,
        cast(0 as decimal(18, 2)) as amount,
        cast(replenishments * replenishment_amount as decimal(18, 2)) as prepaid_amount,
        cast(drawn_on as timestamp) as entry_at,
    from days
    where replenishments > 0
),

drawdowns as (
    select
        reseller_id, client_id, 'prepaid_drawdown' as entry_type,
        'drawdown ' || strftime(drawn_on, '%Y-%m-%d') as reference,
        null::varchar as invoice_id,
        cast(0 as decimal(18, 2)) as amount,
        -drawdown as prepaid_amount,
        cast(drawn_on as timestamp) + interval 1 day - interval 1 second as entry_at,
    from days
    where drawdown <> 0
),

final as (
    select entries.*, clients.currency, null::date as due_date,
    from (select * from topups union all select * from drawdowns) as entries
    inner join clients using (reseller_id, client_id)
)

select * from final
