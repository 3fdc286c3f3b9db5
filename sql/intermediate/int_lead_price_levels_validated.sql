-- int_lead_price_levels_validated: one row per lead_price_levels input row; a price of an
-- unknown reseller is rejected.
with prices as (
    select * from int_lead_price_levels_deduplicated
),

resellers as (
    select * from int_reseller_references
),

final as (
    select
        prices.* replace (
            coalesce(
                prices.reject_reason,
                reseller_reference_problem(prices.reseller_id, resellers.reseller_id, resellers.is_valid)
            ) as reject_reason
        ),
    from prices
    left join resellers using (reseller_id)
)

select * from final
