-- stg_billing_items: one row per billing_items input row (a reseller's custom item).
with source as (
    select * from raw_billing_items
),

checked as (
    select
        reseller_id,
        item_code,
        name as item_name,
        unit,
        lower(aggregation) as aggregation,
        case
            when _malformed is not null then _malformed
            when reseller_id is null then 'missing reseller_id'
            when item_code is null then 'missing item_code'
            when item_code in (select item_code from stg_standard_items)
                then 'item_code ' || item_code || ' is a standard item and cannot be redefined'
            when aggregation is null then 'missing aggregation'
            when lower(aggregation) not in ('sum', 'max', 'none')
                then 'aggregation must be sum, max or none'
        end as reject_reason,
        _source_file,
        _source_line,
    from source
),

final as (
    select
        *,
        hash(reseller_id, item_code) as _key_hash,
        hash(item_name, unit, aggregation) as _row_hash,
    from checked
)

select * from final
