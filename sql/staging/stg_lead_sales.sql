-- stg_lead_sales: one row per lead_sales input row; an empty price means "the level's price".
-- Written as Parquet, read through a view (10M events: 0.09 s against 0.15 s as a DuckDB table).
-- materialize: parquet
with source as (
    select * from raw_lead_sales
),

typed as (
    select
        reseller_id,
        sale_id,
        client_id,
        lead_id,
        lead_type,
        try_cast(price as decimal(18, 6)) as price,
        to_utc_timestamp(sold_at) as sold_at,
        price as price_text,
        sold_at as sold_at_text,
        _source_file,
        _source_line,
        _malformed,
    from source
),

final as (
    select
        reseller_id,
        sale_id,
        client_id,
        lead_id,
        lead_type,
        price,
        sold_at,
        case
            when _malformed is not null then _malformed
            when reseller_id is null then 'missing reseller_id'
            when sale_id is null then 'missing sale_id'
            when client_id is null then 'missing client_id'
            when sold_at_text is null then 'missing sold_at'
            when sold_at is null then 'sold_at is not an ISO 8601 timestamp'
            when price_text is not null and not is_units_text(price_text)
                then 'price is not an amount of 0 or more'
        end as reject_reason,
        _source_file,
        _source_line,
        hash(reseller_id, sale_id) as _key_hash,
        hash(client_id, lead_id, lead_type, price, sold_at) as _row_hash,
    from typed
)

select * from final
