-- int_usage_aggregated_daily: one row per prepaid client x item x UTC day with usable usage
-- (billing-rules.md section 6): the day's sum, its peak snapshot and its event count. A
-- prepaid balance is drawn day by day, so only prepaid clients need the day grain; every
-- cycle's quantity comes from int_usage_rolled_up_to_cycles, straight from the events.
-- Grouped on the client's and item's numbers (client_no, item_no: see int_usage_events_usable),
-- then named; the numbers stay, for the drawdown's joins and windows.
-- Written as Parquet, read through a view (10M events: 0.33 s against 0.38 s as a DuckDB table).
-- materialize: parquet
with events as (
    select * from int_usage_events_usable where is_prepaid
),

days as (
    select
        client_no,
        item_no,
        sum(quantity) as day_sum,
        max(quantity) as day_peak,
        count(*) as event_count,
        cast(occurred_at as date) as usage_day,
    from events
    group by client_no, item_no, cast(occurred_at as date)
),

final as (
    select
        clients.reseller_id,
        clients.client_id,
        items.item_code,
        days.client_no,
        days.item_no,
        days.day_sum,
        days.day_peak,
        days.event_count,
        days.usage_day,
    from days
    inner join int_clients_billable as clients using (client_no)
    inner join int_items_offered_by_resellers as items using (item_no)
)

select * from final
