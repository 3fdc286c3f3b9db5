-- stg_lead_returns: one row per lead_returns input row.
with source as (
    select * from raw_lead_returns
),

typed as (
    select
        reseller_id,
        return_id,
        sale_id,
        reason as return_reason,
        to_utc_timestamp(returned_at) as returned_at,
        returned_at as returned_at_text,
        _source_file,
        _source_line,
        _malformed,
    from source
),

final as (
    select
        reseller_id,
        return_id,
        sale_id,
        return_reason,
        returned_at,
        case
            when _malformed is not null then _malformed
            when reseller_id is null then 'missing reseller_id'
            when return_id is null then 'missing return_id'
            when sale_id is null then 'missing sale_id'
            when returned_at_text is null then 'missing returned_at'
            when returned_at is null then 'returned_at is not an ISO 8601 timestamp'
        end as reject_reason,
        _source_file,
        _source_line,
        hash(reseller_id, return_id) as _key_hash,
        hash(sale_id, return_reason, returned_at) as _row_hash,
    from typed
)

select * from final
