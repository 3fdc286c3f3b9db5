-- int_usage_events_verdicts: one row per usage_events row this run reads or reconsiders, with
-- its final verdict (data-contract.md "Extracts", billing-rules.md section 3):
--   the client must be a valid client of the row's reseller ("client belongs to another
--   reseller" when only another reseller has it); the item must be one the reseller offers
--   and take usage (aggregation none = fee only); usage before the client's start_date or at
--   or after its cancel_date (the cancel date's 00:00 UTC ends the service) is rejected.
-- Usage of an item that is not enabled for the client is NOT rejected here: it is counted
-- in the usage summary and not billed.
-- The rows are those of the events files this run reads, and the rows carried from earlier
-- runs whose verdict may change (transforms/carried.py); int_usage_events_validated adds the
-- rows whose verdicts an earlier run reached and this run keeps.
-- Its rows are read only by joins and order-free aggregates (every output orders its own
-- rows), so the table is written in any order: kept in order, 100M events ran out of a 2GB
-- memory limit here.
-- insertion_order: free
-- Written once as Parquet (10M events: 2.6 s, against 4.6 s as a DuckDB table), which the run's
-- kept part (transforms/carried.py) and every later reader scan.
-- materialize: parquet
with events as (
    select * from int_usage_events_deduplicated
),

items as (
    select reseller_id, item_code, aggregation from int_items_offered_by_resellers
),

client_refs as (
    select * from int_client_references
),

other_resellers_clients as (
    select distinct client_id from client_refs where is_valid
),

final as (
    select
        events.* exclude (_row_hash) replace (
            coalesce(
                events.reject_reason,
                client_reference_problem(
                    events.client_id, client_refs.client_id, client_refs.is_valid,
                    other_resellers_clients.client_id),
                case
                    when items.item_code is null then 'unknown item_code ' || events.item_code
                    when items.aggregation = 'none'
                        then 'item ' || events.item_code || ' is a fee-only item and takes no usage'
                    when events.occurred_at < client_refs.start_date
                        then 'usage before the client''s start date'
                    when events.occurred_at >= client_refs.cancel_date
                        then 'usage after the client''s cancel date'
                end
            ) as reject_reason
        ),
    from events
    left join client_refs
        on client_refs.reseller_id = events.reseller_id and client_refs.client_id = events.client_id
    left join other_resellers_clients  -- looked up for unknown clients only: a null key probes nothing
        on other_resellers_clients.client_id = case when client_refs.client_id is null then events.client_id end
    left join items on items.reseller_id = events.reseller_id and items.item_code = events.item_code
)

select * from final
