-- int_client_bill_dates: one row per client x bill date, from its first bill date up to the
-- last bill date before the run's horizon (the end of the billed period), and never past a
-- cancelled client's final bill date. bill_no counts months from the first bill date.
with clients as (
    select * from int_clients_billable
),

params as (
    select * from run_params
),

bounded as (
    select
        clients.reseller_id,
        clients.client_id,
        clients.first_bill_date,
        datediff(
            'month',
            clients.first_bill_date,
            least(
                coalesce(clients.final_bill_date, params.horizon_end),
                cast(params.horizon_end - interval 1 day as date)
            )
        ) as last_bill_no,
    from clients
    cross join params
    where clients.first_bill_date < params.horizon_end
),

numbered as (
    select
        reseller_id,
        client_id,
        first_bill_date,
        last_bill_no,
        unnest(range(0, last_bill_no + 1)) as bill_no,
    from bounded
),

final as (
    select
        reseller_id,
        client_id,
        bill_no,
        last_bill_no,
        cast(first_bill_date + to_months(cast(bill_no as integer)) as date) as bill_date,
    from numbered
)

select * from final
