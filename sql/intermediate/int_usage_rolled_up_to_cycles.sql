-- int_usage_rolled_up_to_cycles: one row per listed cycle whose window has begun by the
-- range's end: the quantity Q of its usage window so far (billing-rules.md sections 1, 3);
-- a cycle still open at the range's end (its bill date later) only feeds prepaid drawdown. `sum` items
-- add the window's usage, `max` items take its peak snapshot. Usage before the item's trial
-- end (start_date + trial_days) is free: it is counted as trial units and left out of Q;
-- for a `max` item Q is the peak among snapshots at or after the trial end, trial units the
-- peak before it. The day rows of int_usage_aggregated_daily are summed into their window.
-- Keys and quantities only: int_allotments_applied_across_cycles joins the cycle's pricing
-- back once, so its many columns are not carried through every join.
-- materialize: view (one reader computes it in its own query)
with params as (
    select * from run_params
),

cycles as (
    select
        cycles.reseller_id,
        cycles.client_id,
        cycles.item_code,
        cycles.cycle_no,
        cycles.window_start,
        cycles.window_end,
        cycles.trial_end,
    from int_cycles_priced_and_windowed as cycles
    cross join params
    where cycles.window_start < params.range_end
),

items as (
    select reseller_id, item_code, aggregation from int_items_offered_by_resellers
),

days as (
    select * from int_usage_aggregated_daily
),

per_cycle as (
    select
        cycles.reseller_id,
        cycles.client_id,
        cycles.item_code,
        cycles.cycle_no,
        sum(days.day_sum) filter (where days.usage_day >= cycles.trial_end) as paid_sum,
        sum(days.day_sum) filter (where days.usage_day < cycles.trial_end) as trial_sum,
        max(days.day_peak) filter (where days.usage_day >= cycles.trial_end) as paid_peak,
        max(days.day_peak) filter (where days.usage_day < cycles.trial_end) as trial_peak,
        cast(sum(days.event_count) as bigint) as event_count,
    from days
    inner join cycles
        on cycles.reseller_id = days.reseller_id
        and cycles.client_id = days.client_id
        and cycles.item_code = days.item_code
        and days.usage_day >= cycles.window_start
        and days.usage_day < cycles.window_end
    group by all
),

final as (
    select
        cycles.reseller_id,
        cycles.client_id,
        cycles.item_code,
        cycles.cycle_no,
        items.aggregation,
        cast(coalesce(
            case when items.aggregation = 'max' then per_cycle.paid_peak else per_cycle.paid_sum end, 0
        ) as decimal(38, 6)) as quantity,
        cast(coalesce(
            case when items.aggregation = 'max' then per_cycle.trial_peak else per_cycle.trial_sum end, 0
        ) as decimal(38, 6)) as trial_units,
        coalesce(per_cycle.event_count, 0) as event_count,
    from cycles
    inner join items using (reseller_id, item_code)
    left join per_cycle using (reseller_id, client_id, item_code, cycle_no)
    where items.aggregation <> 'none'
)

select * from final
