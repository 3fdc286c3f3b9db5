-- usage_summary: one row per client x item x cycle whose usage is billed on a bill date in
-- the period (data-contract.md "Outputs"; billing-rules.md sections 3-4): how the cycle's
-- units split. quantity (Q, after the trial) = blocked + included + bonus + billable for an
-- enabled item; usage of an item not enabled for the client shows here with is_enabled
-- false and nothing billed. Rows appear for enabled items even without usage.
-- Written as Parquet, read through a view (10M events: ~0.5 s against ~0.8 s as a DuckDB table).
-- materialize: parquet
with cycles as (
    select * from int_allotments_applied_across_cycles
),

params as (
    select * from run_params
),

final as (
    select
        cycles.reseller_id,
        cycles.client_id,
        cycles.item_code,
        strftime(cycles.usage_bill_date, '%Y-%m') as period,
        cycles.cycle_no,
        cycles.event_count,
        cast(cycles.quantity as decimal(18, 6)) as quantity,
        cast(cycles.trial_units as decimal(18, 6)) as trial_units,
        cast(cycles.included_units_used as decimal(18, 6)) as included_units_used,
        cast(cycles.bonus_units_used as decimal(18, 6)) as bonus_units_used,
        cast(cycles.blocked_units as decimal(18, 6)) as blocked_units,
        cast(cycles.billable_units as decimal(18, 6)) as billable_units,
        cycles.is_enabled,
        cycles.cycle_start,
        cycles.cycle_end,
        cycles.window_start,
        cycles.window_end,
        cycles.usage_bill_date as bill_date,
    from cycles
    cross join params
    where cycles.usage_bill_date >= params.range_start
        and cycles.usage_bill_date < params.range_end
        and (cycles.is_enabled or cycles.quantity > 0 or cycles.trial_units > 0)
)

-- Not sorted here: publishing sorts each partition's file, and the check frame sorts its
-- narrow columns (10M events: 1.3M rows, ~0.25 s less).
select * from final
