-- int_manual_items_validated: one row per manual_items input row with its final verdict: the client must
-- be a valid client of the row's reseller.
with items as (
    select * from int_manual_items_deduplicated
),

client_refs as (
    select * from int_client_references
),

other_resellers_clients as (
    select distinct client_id from client_refs where is_valid
),

final as (
    select
        items.* replace (
            coalesce(
                items.reject_reason,
                client_reference_problem(
                    items.client_id, client_refs.client_id, client_refs.is_valid,
                    other_resellers_clients.client_id)
            ) as reject_reason
        ),
    from items
    left join client_refs
        on client_refs.reseller_id = items.reseller_id and client_refs.client_id = items.client_id
    left join other_resellers_clients on other_resellers_clients.client_id = items.client_id
)

select * from final
