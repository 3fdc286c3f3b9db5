-- int_usage_rolled_up_to_cycles: one row per client x item x cycle: the quantity Q of the
-- cycle's usage window (billing-rules.md sections 1, 3): `sum` items add the window's usage,
-- `max` items take its peak snapshot. Usage before the item's trial end (start_date +
-- trial_days) is free: it is counted as trial units and left out of Q; for a `max` item Q is
-- the peak among snapshots at or after the trial end, trial units the peak before it.
with cycles as (
    select * from int_cycles_walked_from_start
),

items as (
    select reseller_id, item_code, aggregation from int_items_offered_by_resellers
),

days as (
    select * from int_usage_rolled_up_to_days
),

days_in_windows as (
    select days.*, cycles.cycle_no, cycles.trial_end
    from days
    asof inner join cycles
        on cycles.reseller_id = days.reseller_id
        and cycles.client_id = days.client_id
        and cycles.item_code = days.item_code
        and days.usage_day >= cycles.window_start
    where days.usage_day < cycles.window_end
),

per_cycle as (
    select
        days_in_windows.reseller_id,
        days_in_windows.client_id,
        days_in_windows.item_code,
        days_in_windows.cycle_no,
        sum(day_sum) filter (where usage_day >= trial_end) as paid_sum,
        sum(day_sum) filter (where usage_day < trial_end) as trial_sum,
        max(day_peak) filter (where usage_day >= trial_end) as paid_peak,
        max(day_peak) filter (where usage_day < trial_end) as trial_peak,
        sum(event_count) as event_count,
    from days_in_windows
    group by all
),

final as (
    select
        cycles.*,
        items.aggregation,
        cast(coalesce(
            case when items.aggregation = 'max' then per_cycle.paid_peak else per_cycle.paid_sum end, 0
        ) as decimal(38, 6)) as quantity,
        cast(coalesce(
            case when items.aggregation = 'max' then per_cycle.trial_peak else per_cycle.trial_sum end, 0
        ) as decimal(38, 6)) as trial_units,
        cast(coalesce(per_cycle.event_count, 0) as bigint) as event_count,
    from cycles
    inner join items using (reseller_id, item_code)
    left join per_cycle using (reseller_id, client_id, item_code, cycle_no)
    where items.aggregation <> 'none'
)

select * from final
