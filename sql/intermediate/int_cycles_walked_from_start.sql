-- int_cycles_walked_from_start: one row per client x item x cycle (billing-rules.md
-- section 3). Cycle 1 starts on the client's first bill date; each next cycle starts
-- cycle_months later, with cycle_months as priced on the cycle's own start date, so a
-- pricing change alters the length of cycles from then on, never of past ones.
-- A cycle's usage window runs from its start (for cycle 1: from the client's start_date) to
-- the next cycle start, cut at the cancel date, and is billed on the next cycle start or,
-- when the client cancels first, on the client's final bill date. Cycles starting on or after
-- the cancel date are not cycles; cycle 1 is kept so a client cancelled before its first bill
-- date still bills its usage.
with recursive prices as (
    select * from int_prices_resolved_by_hierarchy
),

walk as (
    select reseller_id, client_id, item_code, bill_no, 1 as cycle_no
    from prices
    where bill_no = 0

    union all

    select
        walk.reseller_id,
        walk.client_id,
        walk.item_code,
        walk.bill_no + prices.cycle_months as bill_no,
        walk.cycle_no + 1 as cycle_no,
    from walk
    inner join prices
        on prices.reseller_id = walk.reseller_id
        and prices.client_id = walk.client_id
        and prices.item_code = walk.item_code
        and prices.bill_no = walk.bill_no
    where walk.bill_no + prices.cycle_months <= prices.last_bill_no
),

clients as (
    select * from int_clients_billable
),

final as (
    select
        prices.*,
        walk.cycle_no,
        prices.bill_date as cycle_start,
        cast(prices.bill_date + to_months(prices.cycle_months) as date) as cycle_end,
        case when walk.cycle_no = 1 then clients.start_date else prices.bill_date end as window_start,
        least(cast(prices.bill_date + to_months(prices.cycle_months) as date), clients.cancel_date)
            as window_end,
        case
            when clients.cancel_date is null
                or cast(prices.bill_date + to_months(prices.cycle_months) as date) < clients.cancel_date
                then cast(prices.bill_date + to_months(prices.cycle_months) as date)
            else clients.final_bill_date
        end as usage_bill_date,
        clients.cancel_date is null or prices.bill_date < clients.cancel_date as is_fee_cycle,
        cast(clients.start_date + to_days(prices.trial_days) as date) as trial_end,
        clients.currency,
        clients.minor_unit,
    from walk
    inner join prices using (reseller_id, client_id, item_code, bill_no)
    inner join clients using (reseller_id, client_id)
    where walk.cycle_no = 1 or clients.cancel_date is null or prices.bill_date < clients.cancel_date
)

select * from final
