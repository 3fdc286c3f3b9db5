-- stg_clients: one row per clients input row (file, line), typed and row-checked.
-- A processor_customer_ref that looks like a card number (13-19 digits passing Luhn) rejects
-- the row and is masked here, so the digits never reach a model downstream.
-- Written as Parquet, read through a view (10M events: 0.22 s against 0.31 s as a DuckDB table).
-- materialize: parquet
with source as (
    select * from raw_clients
),

typed as (
    select
        reseller_id,
        client_id,
        group_id,
        name as client_name,
        lower(processor) as processor,
        case
            when looks_like_card(processor_customer_ref) then mask_card(processor_customer_ref)
            else processor_customer_ref
        end as processor_customer_ref,
        lead_price_level,
        try_cast(bill_day as integer) as bill_day,
        looks_like_card(processor_customer_ref) as is_card_number,
        bill_day as bill_day_text,
        start_date as start_date_text,
        cancel_date as cancel_date_text,
        try_cast(start_date as date) as start_date,
        try_cast(cancel_date as date) as cancel_date,
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
            when client_id is null then 'missing client_id'
            when is_card_number
                then 'processor_customer_ref looks like a card number (' || processor_customer_ref
                    || '); only the processor''s customer token may be sent'
            when start_date_text is null then 'missing start_date'
            when not is_date_text(start_date_text) then 'start_date is not a date (YYYY-MM-DD)'
            when cancel_date_text is not null and not is_date_text(cancel_date_text)
                then 'cancel_date is not a date (YYYY-MM-DD)'
            -- the service would end before it starts: a contradiction, not a client to bill
            when cancel_date < start_date
                then 'cancel_date ' || cancel_date_text || ' is before start_date ' || start_date_text
            when bill_day_text is null then 'missing bill_day'
            when not is_int_text(bill_day_text) or bill_day not between 1 and 28
                then 'bill_day must be a whole number from 1 to 28'
            when processor is null then 'missing processor'
            when processor not in ('stripe', 'ach', 'manual')
                then 'processor must be stripe, ach or manual'
            when processor <> 'manual' and processor_customer_ref is null
                then 'missing processor_customer_ref for a ' || processor || ' client'
        end as reject_reason,
    from typed
),

final as (
    select
        reseller_id,
        client_id,
        group_id,
        client_name,
        processor,
        processor_customer_ref,
        lead_price_level,
        bill_day,
        start_date,
        cancel_date,
        reject_reason,
        _source_file,
        _source_line,
        hash(reseller_id, client_id) as _key_hash,
        hash(group_id, client_name, processor, processor_customer_ref, lead_price_level,
            bill_day, start_date, cancel_date) as _row_hash,
    from checked
)

select * from final
