-- int_clients_billable: one row per valid client, with its reseller's billing settings and
-- the dates its cycles hang on (billing-rules.md section 3):
--   first_bill_date = the first bill date (day bill_day) on or after start_date;
--   final_bill_date = for a cancelled client, the first bill date on or after cancel_date
--   (never before the first bill date): it bills all unbilled usage up to the cancel date.
-- Bill dates are numbered in months from the first one (bill_no): period_bill_no is the
-- client's bill date in the run's range of days (a period, or one night; null when the
-- range holds none, negative before the first bill date), final_bill_no the
-- final one, horizon_bill_no the last bill date before the range's end, last_start_bill_no
-- the last bill date before the cancel date (-1: none).
with clients as (
    select * from int_clients_validated where reject_reason is null and not is_duplicate
),

resellers as (
    select * from int_resellers_validated where reject_reason is null and not is_duplicate
),

currencies as (
    select * from stg_currency_minor_units
),

params as (
    select * from run_params
),

dated as (
    select
        clients.reseller_id,
        clients.client_id,
        clients.group_id,
        clients.client_name,
        clients.processor,
        clients.processor_customer_ref,
        resellers.currency,
        coalesce(currencies.minor_unit, 2) as minor_unit,
        resellers.net_days,
        clients.bill_day,
        clients.start_date,
        clients.cancel_date,
        first_bill_date_on_or_after(clients.start_date, clients.bill_day) as first_bill_date,
        case when clients.cancel_date is not null then greatest(
            first_bill_date_on_or_after(clients.start_date, clients.bill_day),
            first_bill_date_on_or_after(clients.cancel_date, clients.bill_day)
        ) end as final_bill_date,
    from clients
    inner join resellers on resellers.reseller_id = clients.reseller_id
    left join currencies on currencies.currency = resellers.currency
),

final as (
    select
        dated.*,
        -- the client's bill date in the range (a range spans at most one of them: a period,
        -- a night, or a preview's month ahead, which may cross into the next month)
        case
            when first_bill_date_on_or_after(params.range_start, bill_day) < params.range_end
                then datediff('month', first_bill_date, first_bill_date_on_or_after(params.range_start, bill_day))
        end as period_bill_no,
        datediff('month', first_bill_date, final_bill_date) as final_bill_no,
        least(
            datediff('month', first_bill_date, cast(params.range_end - interval 1 day as date))
                - case when day(cast(params.range_end - interval 1 day as date)) < bill_day then 1 else 0 end,
            datediff('month', first_bill_date, final_bill_date)
        ) as horizon_bill_no,
        greatest(-1, datediff('month', first_bill_date,
            first_bill_date_on_or_after(cancel_date, bill_day)) - 1) as last_start_bill_no,
    from dated
    cross join params
)

select * from final
