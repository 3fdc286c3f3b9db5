-- int_reseller_references: one row per reseller_id named in the resellers extract, used to
-- explain why a row pointing at a reseller is rejected: an unknown reseller, or a reseller
-- whose own row was rejected (bad id format, currency, a conflicting duplicate, ...).
with resellers as (
    select * from int_resellers_validated where not is_duplicate
),

final as (
    select
        reseller_id,
        bool_or(reject_reason is null) as is_valid,
    from resellers
    group by reseller_id
)

select * from final
