-- int_billing_items_validated: one row per billing_items input row; a custom item of an
-- unknown reseller is rejected.
with items as (
    select * from int_billing_items_deduplicated
),

resellers as (
    select reseller_id from int_resellers_validated where reject_reason is null and not is_duplicate
),

final as (
    select
        items.* replace (
            coalesce(
                items.reject_reason,
                case when resellers.reseller_id is null then 'unknown reseller ' || items.reseller_id end
            ) as reject_reason
        ),
    from items
    left join resellers using (reseller_id)
)

select * from final
