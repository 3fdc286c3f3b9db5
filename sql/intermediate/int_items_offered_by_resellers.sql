-- int_items_offered_by_resellers: one row per reseller x billing item it can price: the
-- standard items of billing-rules.md section 1 plus the reseller's valid custom items
-- (custom items sort after the standard ones, by code). item_no numbers them (by reseller,
-- then code), so the usage events and the cycles meet on two integers (client_no, item_no)
-- rather than three texts (int_usage_events_usable).
with resellers as (
    select reseller_id from int_resellers_validated where reject_reason is null and not is_duplicate
),

standard_items as (
    select resellers.reseller_id, stg_standard_items.*
    from resellers
    cross join stg_standard_items
),

custom_items as (
    select
        reseller_id,
        item_code,
        item_name,
        unit,
        aggregation,
        100 + row_number() over (partition by reseller_id order by item_code) as sort_order,
    from int_billing_items_validated
    where reject_reason is null and not is_duplicate
),

offered as (
    select reseller_id, item_code, item_name, unit, aggregation, sort_order from standard_items
    union all
    select reseller_id, item_code, item_name, unit, aggregation, sort_order from custom_items
),

final as (
    select *, row_number() over (order by reseller_id, item_code) as item_no,
    from offered
)

select * from final
