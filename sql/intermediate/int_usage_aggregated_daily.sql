-- int_usage_aggregated_daily: one row per prepaid client x item x UTC day with usable usage
-- (billing-rules.md section 6): the day's sum, its peak snapshot and its event count. A
-- prepaid balance is drawn day by day, so only prepaid clients need the day grain; every
-- cycle's quantity comes from int_usage_rolled_up_to_cycles, straight from the events.
with events as (
    select * from int_usage_events_usable where is_prepaid
),

final as (
    select
        reseller_id,
        client_id,
        item_code,
        sum(quantity) as day_sum,
        max(quantity) as day_peak,
        count(*) as event_count,
        cast(occurred_at as date) as usage_day,
    from events
    group by reseller_id, client_id, item_code, cast(occurred_at as date)
)

select * from final
