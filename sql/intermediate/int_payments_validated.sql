-- int_payments_validated: one row per payments input row with its final verdict: the client must
-- be a valid client of the row's reseller.
with payments as (
    select * from int_payments_deduplicated
),

client_refs as (
    select * from int_client_references
),

other_resellers_clients as (
    select distinct client_id from client_refs where is_valid
),

final as (
    select
        payments.* replace (
            coalesce(
                payments.reject_reason,
                client_reference_problem(
                    payments.client_id, client_refs.client_id, client_refs.is_valid,
                    other_resellers_clients.client_id)
            ) as reject_reason
        ),
    from payments
    left join client_refs
        on client_refs.reseller_id = payments.reseller_id and client_refs.client_id = payments.client_id
    left join other_resellers_clients on other_resellers_clients.client_id = payments.client_id
)

select * from final
