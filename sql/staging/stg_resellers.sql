-- stg_resellers: one row per resellers input row (file, line), typed and row-checked
-- (data-contract.md "Extracts"). reject_reason is null when the row may be used.
-- A reseller_id names warehouse folders (reseller_id=<id>), so it must be a plain name
-- (is_reseller_id_text); anything else is rejected here and never becomes a path.
-- The currency must be an active ISO 4217 code with at most 2 decimals.
with source as (
    select * from raw_resellers
),

typed as (
    select
        reseller_id,
        name as reseller_name,
        upper(currency) as currency,
        lead_price_level,
        coalesce(try_cast(net_days as integer), 0) as net_days,
        net_days as net_days_text,
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
            when not is_reseller_id_text(reseller_id) then reseller_id_format_problem()
            when currency is null then 'missing currency'
            when currency not in (select currency from stg_currency_minor_units)
                then 'currency ' || currency || ' is not an ISO 4217 code'
            when currency in (select currency from stg_currency_minor_units where minor_unit > 2)
                then 'currency ' || currency || ' has more than 2 decimals, which billing does not support'
            when net_days_text is not null and not is_int_text(net_days_text)
                then 'net_days is not a whole number'
            when net_days < 0 then 'net_days is negative'
        end as reject_reason,
    from typed
),

final as (
    select
        reseller_id,
        reseller_name,
        currency,
        lead_price_level,
        net_days,
        reject_reason,
        _source_file,
        _source_line,
        hash(reseller_id) as _key_hash,
        hash(reseller_name, currency, lead_price_level, net_days) as _row_hash,
    from checked
)

select * from final
