-- int_lead_returns_validated: one row per lead_returns input row with its final verdict
-- (billing-rules.md section 5): the sale must be a usable sale of the same reseller, the
-- return must not precede it, and a lead is returned once (a second return is rejected).
-- A return credits exactly what its sale was billed, whatever the level's price is now.
with returns as (
    select * from int_lead_returns_deduplicated
),

sales as (
    select reseller_id, sale_id, client_id, lead_type, sold_at, billed_price, price_source
    from int_lead_sales_validated
    where reject_reason is null and not is_duplicate
),

ordered as (
    select
        returns.*,
        sales.client_id,
        sales.lead_type,
        sales.sold_at,
        sales.billed_price as credited_price,
        sales.price_source,
        sales.sale_id is not null as has_sale,
        row_number() over (
            partition by returns.reseller_id, returns.sale_id, returns.reject_reason is null, returns.is_duplicate
            order by returns.returned_at, returns.return_id
        ) as return_no,
    from returns
    left join sales on sales.reseller_id = returns.reseller_id and sales.sale_id = returns.sale_id
),

final as (
    select
        ordered.* exclude (has_sale, return_no) replace (
            coalesce(
                ordered.reject_reason,
                case
                    when not ordered.has_sale then 'unknown sale ' || ordered.sale_id
                    when ordered.returned_at < ordered.sold_at then 'lead returned before it was sold'
                    when not ordered.is_duplicate and ordered.return_no > 1
                        then 'lead of sale ' || ordered.sale_id || ' was already returned'
                end
            ) as reject_reason
        ),
    from ordered
)

select * from final
