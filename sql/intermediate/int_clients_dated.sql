-- int_clients_dated: one row per valid client of a valid reseller, with its reseller's
-- billing settings and the dates its cycles hang on (billing-rules.md section 3):
--   first_bill_date = the first bill date (day bill_day) on or after start_date;
--   final_bill_date = for a cancelled client, the first bill date on or after cancel_date
--   (never before the first bill date): it bills all unbilled usage up to the cancel date.
-- Nothing here depends on the run (int_clients_billable numbers the bill dates against the
-- run's range), so it is built in ingest, and a night whose clients and resellers are those
-- of the run before keeps it (transforms/carried.py) with the prices resolved from it.
-- Written as Parquet, read through a view (10M events: 0.06 s against 0.36 s as a DuckDB table).
-- materialize: parquet
with clients as (
    select * from int_clients_validated where reject_reason is null and not is_duplicate
),

resellers as (
    select * from int_resellers_validated where reject_reason is null and not is_duplicate
),

currencies as (
    select * from stg_currency_minor_units
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
)

select * from dated
