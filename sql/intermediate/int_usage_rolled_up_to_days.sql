-- int_usage_rolled_up_to_days: one row per client x item x UTC day with valid usage before
-- the run's horizon: the day's sum and peak. Every boundary the rules use (bill dates, trial
-- end, cancel date) falls on a midnight, so days are exact building blocks; aggregating here
-- first keeps the per-event work to one pass.
with events as (
    select reseller_id, client_id, item_code, occurred_at, quantity
    from int_usage_events_validated
    where reject_reason is null and not is_duplicate
),

params as (
    select * from run_params
),

final as (
    select
        events.reseller_id,
        events.client_id,
        events.item_code,
        cast(events.occurred_at as date) as usage_day,
        sum(events.quantity) as day_sum,
        max(events.quantity) as day_peak,
        count(*) as event_count,
    from events
    cross join params
    where events.occurred_at < params.horizon_end
    group by all
)

select * from final
