-- int_usage_aggregated_daily: one row per client x item x UTC day with usable usage before
-- the run's usage cut-off (the range's end; a preview's day after its as-of date) (billing-rules.md sections 1, 3, 6): the day's sum, its peak snapshot and
-- its event count. Every boundary the rules draw through usage (window start and end, trial
-- end, cancel date, prepaid_from) is a date, i.e. a UTC midnight, so billing these day rows
-- gives exactly what billing the events one by one would; the events are read once, here,
-- for the clients whose cycles the run lists.
with params as (
    select * from run_params
),

listed as (
    select reseller_id, client_id from int_clients_listed_for_range
),

events as (
    select
        events.reseller_id,
        events.client_id,
        events.item_code,
        events.quantity,
        cast(events.occurred_at as date) as usage_day,
    from int_usage_events_validated as events
    semi join listed using (reseller_id, client_id)
    cross join params
    where events.reject_reason is null and not events.is_duplicate and events.occurred_at < params.usage_until
),

final as (
    select
        reseller_id,
        client_id,
        item_code,
        sum(quantity) as day_sum,
        max(quantity) as day_peak,
        count(*) as event_count,
        usage_day,
    from events
    group by reseller_id, client_id, item_code, usage_day
)

select * from final
