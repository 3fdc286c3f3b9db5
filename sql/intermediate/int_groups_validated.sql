-- int_groups_validated: one row per groups input row; a group of an unknown reseller is
-- rejected.
with groups as (
    select * from int_groups_deduplicated
),

resellers as (
    select * from int_reseller_references
),

final as (
    select
        groups.* replace (
            coalesce(
                groups.reject_reason,
                reseller_reference_problem(groups.reseller_id, resellers.reseller_id, resellers.is_valid)
            ) as reject_reason
        ),
    from groups
    left join resellers using (reseller_id)
)

select * from final
