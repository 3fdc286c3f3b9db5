-- stg_pricing: one row per pricing input row (file, line), typed and row-checked.
-- A row is a whole snapshot of one level's options for one item (billing-rules.md
-- section 2); an empty option stays null here and means "inherit" downstream.
with source as (
    select * from raw_pricing
),

typed as (
    select
        reseller_id,
        lower(level) as level,
        group_id,
        client_id,
        item_code,
        try_cast(effective_from as date) as effective_from,
        to_bool(enabled) as enabled,
        try_cast(cycle_fee as decimal(18, 6)) as cycle_fee,
        try_cast(cycle_months as integer) as cycle_months,
        try_cast(trial_days as integer) as trial_days,
        try_cast(unit_fee as decimal(18, 6)) as unit_fee,
        try_cast(included_units as decimal(18, 6)) as included_units,
        try_cast(bonus_units as decimal(18, 6)) as bonus_units,
        to_bool(metered) as metered,
        try_cast(overage_fee as decimal(18, 6)) as overage_fee,
        try_cast(max_units as decimal(18, 6)) as max_units,
        try_cast(min_units as decimal(18, 6)) as min_units,
        to_bool(lockout_when_owing) as lockout_when_owing,
        try_cast(replenishment_amount as decimal(18, 6)) as replenishment_amount,
        source as text,
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
            when level is null then 'missing level'
            when level not in ('account', 'group', 'client') then 'level must be account, group or client'
            when item_code is null then 'missing item_code'
            when text.effective_from is null then 'missing effective_from'
            when not is_date_text(text.effective_from) then 'effective_from is not a date (YYYY-MM-DD)'
            when level = 'account' and (group_id is not null or client_id is not null)
                then 'an account-level row must not name a group or client'
            when level = 'group' and group_id is null then 'a group-level row needs group_id'
            when level = 'group' and client_id is not null then 'a group-level row must not name a client'
            when level = 'client' and client_id is null then 'a client-level row needs client_id'
            when level = 'client' and group_id is not null then 'a client-level row must not name a group'
            when text.enabled is not null and not is_bool_text(text.enabled) then 'enabled must be true or false'
            when text.metered is not null and not is_bool_text(text.metered) then 'metered must be true or false'
            when text.lockout_when_owing is not null and not is_bool_text(text.lockout_when_owing)
                then 'lockout_when_owing must be true or false'
            when text.cycle_months is not null and not (
                is_int_text(text.cycle_months) and cycle_months in (1, 2, 3, 4, 6, 12))
                then 'cycle_months must be 1, 2, 3, 4, 6 or 12'
            when text.trial_days is not null and not (is_int_text(text.trial_days) and trial_days >= 0)
                then 'trial_days must be a whole number of days, 0 or more'
            when text.cycle_fee is not null and not is_units_text(text.cycle_fee)
                then 'cycle_fee is not an amount of 0 or more'
            when text.unit_fee is not null and not is_units_text(text.unit_fee)
                then 'unit_fee is not an amount of 0 or more'
            when text.overage_fee is not null and not is_units_text(text.overage_fee)
                then 'overage_fee is not an amount of 0 or more'
            when text.replenishment_amount is not null and not (
                is_units_text(text.replenishment_amount) and replenishment_amount > 0)
                then 'replenishment_amount must be an amount above 0'
            when text.included_units is not null and not is_units_text(text.included_units)
                then 'included_units is not a number of units, 0 or more'
            when text.bonus_units is not null and not is_units_text(text.bonus_units)
                then 'bonus_units is not a number of units, 0 or more'
            when text.max_units is not null and not is_units_text(text.max_units)
                then 'max_units is not a number of units, 0 or more'
            when text.min_units is not null and not is_units_text(text.min_units)
                then 'min_units is not a number of units, 0 or more'
        end as reject_reason,
    from typed
),

final as (
    select
        reseller_id,
        level,
        group_id,
        client_id,
        item_code,
        enabled,
        cycle_fee,
        cycle_months,
        trial_days,
        unit_fee,
        included_units,
        bonus_units,
        metered,
        overage_fee,
        max_units,
        min_units,
        lockout_when_owing,
        replenishment_amount,
        effective_from,
        reject_reason,
        _source_file,
        _source_line,
        hash(reseller_id, level, group_id, client_id, item_code, effective_from) as _key_hash,
        hash(enabled, cycle_fee, cycle_months, trial_days, unit_fee, included_units, bonus_units,
            metered, overage_fee, max_units, min_units, lockout_when_owing,
            replenishment_amount) as _row_hash,
    from checked
)

select * from final
