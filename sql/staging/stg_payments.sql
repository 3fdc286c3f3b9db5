-- stg_payments: one row per payments input row (money received outside our charge batches).
-- Written as Parquet, read through a view (10M events: 0.28 s against 0.31 s as a DuckDB table).
-- materialize: parquet
with source as (
    select * from raw_payments
),

typed as (
    select
        reseller_id,
        payment_id,
        client_id,
        method,
        invoice_id,
        try_cast(amount as decimal(18, 6)) as amount,
        to_utc_timestamp(paid_at) as paid_at,
        amount as amount_text,
        paid_at as paid_at_text,
        _source_file,
        _source_line,
        _malformed,
    from source
),

final as (
    select
        reseller_id,
        payment_id,
        client_id,
        method,
        invoice_id,
        amount,
        paid_at,
        case
            when _malformed is not null then _malformed
            when reseller_id is null then 'missing reseller_id'
            when payment_id is null then 'missing payment_id'
            when client_id is null then 'missing client_id'
            when paid_at_text is null then 'missing paid_at'
            when paid_at is null then 'paid_at is not an ISO 8601 timestamp'
            when amount_text is null then 'missing amount'
            when not (is_units_text(amount_text) and amount > 0) then 'amount must be above 0'
        end as reject_reason,
        _source_file,
        _source_line,
        hash(reseller_id, payment_id) as _key_hash,
        hash(client_id, method, invoice_id, amount, paid_at) as _row_hash,
    from typed
)

select * from final
