-- int_cycles_priced_and_windowed: one row per listed cycle with its pricing and its dates
-- (billing-rules.md sections 2-3). A cycle is priced with the change point in force on its
-- start (no change point yet: nothing applies, the item is not enabled). Its usage window
-- runs from its start (cycle 1: from the client's start_date) to its end, cut at the cancel
-- date; it is billed on the next cycle start or, when the client cancels first, on the
-- client's final bill date. Cycles starting on or after the cancel date bill no fee and are
-- dropped, but cycle 1 is kept so a client cancelled before its first bill date still bills
-- its usage. trial_end = start_date + trial_days as priced on the cycle's start. Where each
-- option came from is not carried (these rows are many and wide): a line looks it up by
-- priced_from, the change point's valid_from (int_cycle_lines_priced).
-- Written as Parquet, read through a view (10M events: 3M cycles, 1.4 s against 2.2 s as a
-- DuckDB table); its readers name a cycle by cycle_key (sql/macros.sql), a view having no rowid.
-- materialize: parquet
with starts as (
    select * from int_cycle_starts_listed
),

clients as (
    select * from int_clients_billable
),

prices as (
    select * from int_prices_resolved_by_hierarchy
),

dated as (
    select
        starts.*,
        cast(clients.first_bill_date + to_months(cast(starts.bill_no as integer)) as date) as cycle_start,
        clients.start_date,
        clients.cancel_date,
        clients.final_bill_date,
        clients.currency,
        clients.minor_unit,
        clients.client_no,
    from starts
    inner join clients using (reseller_id, client_id)
),

priced as (
    select
        dated.*,
        coalesce(prices.is_enabled, false) as is_enabled,
        coalesce(prices.cycle_fee, 0) as cycle_fee,
        coalesce(prices.cycle_months, 1) as cycle_months,
        coalesce(prices.trial_days, 0) as trial_days,
        coalesce(prices.unit_fee, 0) as unit_fee,
        coalesce(prices.included_units, 0) as included_units,
        coalesce(prices.bonus_units, 0) as bonus_units,
        coalesce(prices.is_metered, false) as is_metered,
        prices.overage_fee,
        prices.max_units,
        coalesce(prices.min_units, 0) as min_units,
        prices.valid_from as priced_from,
    from dated
    left join prices  -- the change point in force: a hash join, where an ASOF join sorted 3.5M cycles
        on prices.reseller_id = dated.reseller_id
        and prices.client_id = dated.client_id
        and prices.item_code = dated.item_code
        and dated.cycle_start >= prices.valid_from
        and (dated.cycle_start < prices.valid_until or prices.valid_until is null)
),

final as (  -- the client's dates went into the cycle's: no reader needs them again (3M cycles at 10M events)
    select
        priced.* exclude (bill_no, start_date, cancel_date, final_bill_date),
        cast(cycle_start + to_months(cycle_months) as date) as cycle_end,
        case when cycle_no = 1 then start_date else cycle_start end as window_start,
        least(cast(cycle_start + to_months(cycle_months) as date), cancel_date) as window_end,
        case
            when cancel_date is null or cast(cycle_start + to_months(cycle_months) as date) < cancel_date
                then cast(cycle_start + to_months(cycle_months) as date)
            else final_bill_date
        end as usage_bill_date,
        cancel_date is null or cycle_start < cancel_date as is_fee_cycle,
        cast(start_date + to_days(trial_days) as date) as trial_end,
    from priced
    where cycle_no = 1 or cancel_date is null or cycle_start < cancel_date
)

select * from final
