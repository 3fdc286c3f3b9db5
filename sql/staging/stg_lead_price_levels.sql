-- stg_lead_price_levels: one row per lead_price_levels input row; an empty lead_type is the
-- level's any-type price (billing-rules.md section 5).
with source as (
    select * from raw_lead_price_levels
),

typed as (
    select
        reseller_id,
        level_code,
        lead_type,
        try_cast(price as decimal(18, 6)) as price,
        try_cast(effective_from as date) as effective_from,
        price as price_text,
        effective_from as effective_from_text,
        _source_file,
        _source_line,
        _malformed,
    from source
),

final as (
    select
        reseller_id,
        level_code,
        lead_type,
        price,
        effective_from,
        case
            when _malformed is not null then _malformed
            when reseller_id is null then 'missing reseller_id'
            when level_code is null then 'missing level_code'
            when price_text is null then 'missing price'
            when not is_units_text(price_text) then 'price is not an amount of 0 or more'
            when effective_from_text is null then 'missing effective_from'
            when not is_date_text(effective_from_text) then 'effective_from is not a date (YYYY-MM-DD)'
        end as reject_reason,
        _source_file,
        _source_line,
        hash(reseller_id, level_code, lead_type, effective_from) as _key_hash,
        hash(price) as _row_hash,
    from typed
)

select * from final
