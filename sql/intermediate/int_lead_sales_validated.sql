-- int_lead_sales_validated: one row per lead_sales input row with its final verdict: the client must
-- be a valid client of the row's reseller.
with sales as (
    select * from int_lead_sales_deduplicated
),

client_refs as (
    select * from int_client_references
),

other_resellers_clients as (
    select distinct client_id from client_refs where is_valid
),

final as (
    select
        sales.* replace (
            coalesce(
                sales.reject_reason,
                client_reference_problem(
                    sales.client_id, client_refs.client_id, client_refs.is_valid,
                    other_resellers_clients.client_id)
            ) as reject_reason
        ),
    from sales
    left join client_refs
        on client_refs.reseller_id = sales.reseller_id and client_refs.client_id = sales.client_id
    left join other_resellers_clients on other_resellers_clients.client_id = sales.client_id
)

select * from final
