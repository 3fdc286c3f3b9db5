-- int_usage_rolled_up_to_cycles: one row per listed cycle whose window has begun by the
-- range's end: the quantity Q of its usage window so far (billing-rules.md sections 1, 3);
-- a cycle still open at the range's end (its bill date later) only feeds prepaid drawdown. `sum` items
-- add the window's usage, `max` items take its peak snapshot. Usage before the item's trial
-- end (start_date + trial_days) is free: it is counted as trial units and left out of Q;
-- for a `max` item Q is the peak among snapshots at or after the trial end, trial units the
-- peak before it. The events are rolled up once, straight into their window (every window
-- and trial boundary is a date, i.e. a UTC midnight): ~10M events give ~1.3M window rows,
-- where a day grain would keep ~8.5M.
-- The events meet only the cycles' keys (client_no, item_no: numbers, not the three key
-- texts; see int_usage_events_usable) and dates; their sums (per cycle_key, one integer instead
-- of four keys, three of them text: sql/macros.sql) then join the cycle's row of
-- int_cycles_priced_and_windowed once, every pricing column with it, which
-- int_allotments_applied_across_cycles splits and passes on (10M events: joining the
-- pricing back there, twice, cost it ~1 s more).
-- materialize: view (one reader computes it in its own query)
with params as (
    select * from run_params
),

items as (
    select reseller_id, item_code, item_no, aggregation from int_items_offered_by_resellers
),

cycles as (
    select
        cycle_key(cycles.client_no, items.item_no, cycles.cycle_no) as cycle_key,
        cycles.client_no,
        items.item_no,
        cycles.window_start,
        cycles.window_end,
        cycles.trial_end,
    from int_cycles_priced_and_windowed as cycles
    inner join items using (reseller_id, item_code)
    cross join params
    where cycles.window_start < params.range_end
),

events as (
    select * from int_usage_events_usable
),

per_cycle as (
    select
        cycles.cycle_key,
        sum(events.quantity) filter (where events.occurred_at >= cycles.trial_end) as paid_sum,
        sum(events.quantity) filter (where events.occurred_at < cycles.trial_end) as trial_sum,
        max(events.quantity) filter (where events.occurred_at >= cycles.trial_end) as paid_peak,
        max(events.quantity) filter (where events.occurred_at < cycles.trial_end) as trial_peak,
        count(*) as event_count,
    from events
    inner join cycles
        on cycles.client_no = events.client_no
        and cycles.item_no = events.item_no
        and events.occurred_at >= cycles.window_start
        and events.occurred_at < cycles.window_end
    group by cycles.cycle_key
),

final as (
    select
        priced.*,
        cycle_key(priced.client_no, items.item_no, priced.cycle_no) as cycle_key,
        items.item_no,
        items.aggregation,
        cast(coalesce(
            case when items.aggregation = 'max' then per_cycle.paid_peak else per_cycle.paid_sum end, 0
        ) as decimal(38, 6)) as quantity,
        cast(coalesce(
            case when items.aggregation = 'max' then per_cycle.trial_peak else per_cycle.trial_sum end, 0
        ) as decimal(38, 6)) as trial_units,
        coalesce(per_cycle.event_count, 0) as event_count,
    from int_cycles_priced_and_windowed as priced
    cross join params
    inner join items using (reseller_id, item_code)
    left join per_cycle on per_cycle.cycle_key = cycle_key(priced.client_no, items.item_no, priced.cycle_no)
    where priced.window_start < params.range_end and items.aggregation <> 'none'
)

select * from final
