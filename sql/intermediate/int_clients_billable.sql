-- int_clients_billable: one row per valid client (int_clients_dated: its reseller's billing
-- settings, first and final bill dates), with its bill dates numbered against the run's
-- range (billing-rules.md section 3). Bill dates are numbered in months from the first one
-- (bill_no): period_bill_no is the client's bill date in the run's range of days (a period,
-- or one night; null when the range holds none, negative before the first bill date),
-- final_bill_no the final one, horizon_bill_no the last bill date before the range's end,
-- last_start_bill_no the last bill date before the cancel date (-1: none). client_no numbers
-- the clients (by reseller, then id) for the joins of usage to cycles (int_usage_events_usable).
-- Written as Parquet, read through a view (10M events: 0.11 s against 0.20 s as a DuckDB table).
-- materialize: parquet
with clients as (
    select * from int_clients_dated
),

params as (
    select * from run_params
),

final as (
    select
        clients.*,
        -- the client's bill date in the range (a range spans at most one of them: a period,
        -- a night, or a preview's month ahead, which may cross into the next month)
        case
            when first_bill_date_on_or_after(params.range_start, bill_day) < params.range_end
                then datediff('month', first_bill_date, first_bill_date_on_or_after(params.range_start, bill_day))
        end as period_bill_no,
        datediff('month', first_bill_date, final_bill_date) as final_bill_no,
        least(
            bill_no_on_or_before(first_bill_date, cast(params.range_end - interval 1 day as date)),
            datediff('month', first_bill_date, final_bill_date)
        ) as horizon_bill_no,
        greatest(-1, datediff('month', first_bill_date,
            first_bill_date_on_or_after(cancel_date, bill_day)) - 1) as last_start_bill_no,
        row_number() over (order by clients.reseller_id, clients.client_id) as client_no,
    from clients
    cross join params
)

select * from final
