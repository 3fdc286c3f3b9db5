-- stg_manual_items: one row per manual_items input row ("Add Invoice" items; a negative
-- amount is a credit; bill_mode now = its own invoice, next_invoice = next cycle invoice).
with source as (
    select * from raw_manual_items
),

typed as (
    select
        reseller_id,
        manual_item_id,
        client_id,
        description,
        lower(bill_mode) as bill_mode,
        try_cast(amount as decimal(18, 6)) as amount,
        to_utc_timestamp(created_at) as created_at,
        amount as amount_text,
        created_at as created_at_text,
        _source_file,
        _source_line,
        _malformed,
    from source
),

final as (
    select
        reseller_id,
        manual_item_id,
        client_id,
        description,
        bill_mode,
        amount,
        created_at,
        case
            when _malformed is not null then _malformed
            when reseller_id is null then 'missing reseller_id'
            when manual_item_id is null then 'missing manual_item_id'
            when client_id is null then 'missing client_id'
            when created_at_text is null then 'missing created_at'
            when created_at is null then 'created_at is not an ISO 8601 timestamp'
            when amount_text is null then 'missing amount'
            when not is_decimal_text(amount_text) then 'amount is not a decimal amount'
            when bill_mode is null then 'missing bill_mode'
            when bill_mode not in ('now', 'next_invoice') then 'bill_mode must be now or next_invoice'
        end as reject_reason,
        _source_file,
        _source_line,
        hash(reseller_id, manual_item_id) as _key_hash,
        hash(client_id, description, bill_mode, amount, created_at) as _row_hash,
    from typed
)

select * from final
