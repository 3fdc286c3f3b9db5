-- stg_usage_events: one row per usage_events input row (file, line), typed and row-checked.
-- quantity: non-negative, at most 6 decimals; occurred_at: ISO 8601, UTC. A Parquet file
-- that stores them typed (transforms/contract.py TYPED_COLUMNS) gives `_typed_quantity` /
-- `_typed_occurred_at` instead of text: read as they are, checked only for sign and presence.
-- Rows carried from an earlier run (`carried_usage_events`, transforms/carried.py: unchanged
-- files' rows that share a key hash with a row arriving or departing) come back as they were
-- staged then (less the row hash, computed here again), `_row_reject_reason` being the reason
-- these row checks gave.
-- materialize: view (the deduplication and validation read it in one query: 10M events are not copied an extra time)
with source as (
    select * from raw_usage_events
),

typed as (
    select
        reseller_id,
        event_id,
        client_id,
        item_code,
        coalesce(_typed_quantity, try_cast(quantity as decimal(18, 6))) as quantity,
        quantity as quantity_text,
        _typed_quantity,
        occurred_at as occurred_at_text,
        coalesce(_typed_occurred_at, to_utc_timestamp(occurred_at)) as occurred_at,
        _typed_occurred_at,
        _source_file,
        _source_line,
        _malformed,
    from source
),

checked as (
    select
        *,
        case
            when _malformed is not null then _malformed
            when reseller_id is null then 'missing reseller_id'
            when event_id is null then 'missing event_id'
            when client_id is null then 'missing client_id'
            when item_code is null then 'missing item_code'
            when occurred_at_text is null and _typed_occurred_at is null then 'missing occurred_at'
            when occurred_at is null then 'occurred_at is not an ISO 8601 timestamp'
            when _typed_quantity < 0 then 'negative quantity'
            when _typed_quantity is not null then null
            when quantity_text is null then 'missing quantity'
            when regexp_full_match(quantity_text, '-[0-9.]+') then 'negative quantity'
            when not is_units_text(quantity_text) then
                case
                    when regexp_full_match(quantity_text, '[0-9]{13,}(\.[0-9]+)?')
                        then 'quantity has more than 12 digits before the decimal point'
                    else 'quantity is not a number with at most 6 decimals'
                end
        end as reject_reason,
    from typed
),

final as (
    select
        reseller_id,
        event_id,
        client_id,
        item_code,
        quantity,
        occurred_at,
        reject_reason,
        _source_file,
        _source_line,
        hash(reseller_id, event_id) as _key_hash,
        reject_reason as _row_reject_reason,
    from checked
),

staged as (
    select * from final
    union all by name
    select * from carried_usage_events
)

-- the row hash last, over the rows read and carried alike: only the deduplication's few
-- suspects read it, so the verdicts, which leave it out, never compute it for the others
select *, hash(client_id, item_code, occurred_at, quantity) as _row_hash
from staged
