-- int_billing_items_validated: one row per billing_items input row; a custom item of an
-- unknown reseller is rejected.
with items as (
    select * from int_billing_items_deduplicated
),

resellers as (
    select * from int_reseller_references
),

final as (
    select
        items.* replace (
            coalesce(
                items.reject_reason,
                reseller_reference_problem(items.reseller_id, resellers.reseller_id, resellers.is_valid)
            ) as reject_reason
        ),
    from items
    left join resellers using (reseller_id)
)

select * from final
