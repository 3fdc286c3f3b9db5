-- int_clients_validated: one row per clients input row; a client of an unknown reseller or
-- naming an unknown group is rejected.
-- Written as Parquet, read through a view (10M events: 0.08 s against 0.37 s as a DuckDB table).
-- materialize: parquet
with clients as (
    select * from int_clients_deduplicated
),

resellers as (
    select * from int_reseller_references
),

groups as (
    select reseller_id, group_id from int_groups_validated where reject_reason is null and not is_duplicate
),

final as (
    select
        clients.* replace (
            coalesce(
                clients.reject_reason,
                case
                    when not coalesce(resellers.is_valid, false)
                        then reseller_reference_problem(clients.reseller_id, resellers.reseller_id, resellers.is_valid)
                    when clients.group_id is not null and groups.group_id is null
                        then 'unknown group ' || clients.group_id
                end
            ) as reject_reason
        ),
    from clients
    left join resellers on resellers.reseller_id = clients.reseller_id
    left join groups on groups.reseller_id = clients.reseller_id and groups.group_id = clients.group_id
)

select * from final
