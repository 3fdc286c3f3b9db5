-- stg_groups: one row per groups input row (file, line), typed and row-checked.
with source as (
    select * from raw_groups
),

checked as (
    select
        reseller_id,
        group_id,
        name as group_name,
        lead_price_level,
        case
            when _malformed is not null then _malformed
            when reseller_id is null then 'missing reseller_id'
            when group_id is null then 'missing group_id'
        end as reject_reason,
        _source_file,
        _source_line,
    from source
),

final as (
    select
        *,
        hash(reseller_id, group_id) as _key_hash,
        hash(group_name, lead_price_level) as _row_hash,
    from checked
)

select * from final
