-- int_usage_events_usable: one row per usage event the run bills or draws: valid, not a
-- duplicate, of a client whose cycles the run lists, before the run's usage cut-off (the
-- range's end; a preview's day after its as-of date) (billing-rules.md sections 1, 3, 6).
-- The client and item as numbers (client_no of int_clients_billable, item_no of
-- int_items_offered_by_resellers), quantity and instant only; read by the window roll-up,
-- the prepaid daily roll-up and the listing of usage pairs without a price, which join
-- and group on the two integers (10M events: the file ~0.55 s and the window roll-up's
-- join ~0.5 s faster than with the three key texts) and name the few rows they keep.
-- Written once as Parquet for its three readers: as a view, each of them read every kept
-- event again (10M kept events: ~1.3 s saved in a period run and in a night alike).
-- materialize: parquet
with params as (
    select * from run_params
),

listed as (
    select reseller_id, client_id, client_no, is_prepaid from int_clients_listed_for_range
),

items as (  -- every item of a valid event is offered (int_usage_events_verdicts)
    select reseller_id, item_code, item_no from int_items_offered_by_resellers
),

final as (
    select
        listed.client_no,
        items.item_no,
        events.quantity,
        events.occurred_at,
        listed.is_prepaid,
    from int_usage_events_validated as events
    inner join listed using (reseller_id, client_id)
    inner join items using (reseller_id, item_code)
    cross join params
    where events.reject_reason is null and not events.is_duplicate and events.occurred_at < params.usage_until
)

select * from final
