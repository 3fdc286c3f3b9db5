-- int_client_references: one row per (reseller_id, client_id) named in the clients extract,
-- used to explain why a row pointing at a client is rejected: unknown client, a client of
-- another reseller, or a client whose own row was rejected.
with clients as (
    select * from int_clients_validated where not is_duplicate
),

final as (
    select
        reseller_id,
        client_id,
        bool_or(reject_reason is null) as is_valid,
        max(start_date) filter (where reject_reason is null) as start_date,
        max(cancel_date) filter (where reject_reason is null) as cancel_date,
    from clients
    group by reseller_id, client_id
)

select * from final
