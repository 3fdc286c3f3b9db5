-- int_resellers_validated: one row per resellers input row with its final verdict.
-- Resellers reference nothing, so the verdict is the staging/duplicate one.
with final as (
    select * from int_resellers_deduplicated
)

select * from final
