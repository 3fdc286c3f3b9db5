-- int_groups_validated: one row per groups input row; a group of an unknown reseller is
-- rejected.
with groups as (
    select * from int_groups_deduplicated
),

resellers as (
    select reseller_id from int_resellers_validated where reject_reason is null and not is_duplicate
),

final as (
    select
        groups.* replace (
            coalesce(
                groups.reject_reason,
                case when resellers.reseller_id is null then 'unknown reseller ' || groups.reseller_id end
            ) as reject_reason
        ),
    from groups
    left join resellers using (reseller_id)
)

select * from final
