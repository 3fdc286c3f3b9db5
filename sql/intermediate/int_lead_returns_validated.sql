-- int_lead_returns_validated: one row per lead_returns input row; the sale must be a valid
-- sale of the same reseller and the return must not precede it.
with returns as (
    select * from int_lead_returns_deduplicated
),

sales as (
    select reseller_id, sale_id, sold_at
    from int_lead_sales_validated
    where reject_reason is null and not is_duplicate
),

final as (
    select
        returns.* replace (
            coalesce(
                returns.reject_reason,
                case
                    when sales.sale_id is null then 'unknown sale ' || returns.sale_id
                    when returns.returned_at < sales.sold_at then 'lead returned before it was sold'
                end
            ) as reject_reason
        ),
    from returns
    left join sales on sales.reseller_id = returns.reseller_id and sales.sale_id = returns.sale_id
)

select * from final
