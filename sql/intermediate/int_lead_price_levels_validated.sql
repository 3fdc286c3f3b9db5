-- int_lead_price_levels_validated: one row per lead_price_levels input row; a price of an
-- unknown reseller is rejected.
with prices as (
    select * from int_lead_price_levels_deduplicated
),

resellers as (
    select reseller_id from int_resellers_validated where reject_reason is null and not is_duplicate
),

final as (
    select
        prices.* replace (
            coalesce(
                prices.reject_reason,
                case when resellers.reseller_id is null then 'unknown reseller ' || prices.reseller_id end
            ) as reject_reason
        ),
    from prices
    left join resellers using (reseller_id)
)

select * from final
