-- int_clients_listed_for_range: one row per billable client whose cycles the run lists
-- (billing-rules.md sections 3, 6): it has a bill date in the range, or it is prepaid and
-- its first bill date has come (its usage is drawn every day). A nightly run lists about
-- one client in 28 plus the prepaid ones; a period run lists every client.
-- Written as Parquet, read through a view (10M events: 0.06 s against 0.15 s as a DuckDB table).
-- materialize: parquet
with clients as (
    select * from int_clients_billable
),

prepaid as (
    select reseller_id, client_id from int_prepaid_clients
),

final as (
    select
        clients.*,
        prepaid.client_id is not null as is_prepaid,
    from clients
    left join prepaid using (reseller_id, client_id)
    where clients.period_bill_no >= 0 or (prepaid.client_id is not null and clients.horizon_bill_no >= 0)
)

select * from final
