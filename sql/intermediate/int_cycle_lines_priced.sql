-- int_cycle_lines_priced: one row per cycle-invoice line of the listed cycles (the run's
-- range is applied in int_invoice_lines_wanted; prepaid clients need earlier minimums):
-- client x bill date x item x line type (billing-rules.md sections 3-4).
--   cycle_fee: on a cycle start, in advance, for [start, start + cycle_months); waived when
--     the cycle starts before start_date + trial_days; none on or after the cancel date.
--   usage / minimum (metered): billable x unit_fee; when billable < min_units, a minimum
--     line for the shortfall x unit_fee, on every invoice that bills the item's usage
--     (none for a window whose cycle starts inside the trial).
--   overage (bundle): billable x overage_fee; no line when overage_fee is empty.
-- Each amount is rounded once to the currency's minor unit; lines of amount 0 are dropped.
with params as (
    select * from run_params
),

items as (
    select * from int_items_offered_by_resellers
),

fee_lines as (
    select
        cycles.*,
        cycles.cycle_start as invoice_date,
        'cycle_fee' as line_type,
        1 as line_order,
        cast(1 as decimal(38, 6)) as line_quantity,
        cycles.cycle_fee as unit_price,
        'cycle_fee=' || cycle_fee_source || ', cycle_months=' || cycle_months_source
            || ', trial_days=' || trial_days_source || ', enabled=' || enabled_source as price_source,
    from int_cycles_priced_and_windowed as cycles
    cross join params
    where cycles.cycle_start < params.range_end
        and cycles.is_fee_cycle
        and cycles.is_enabled
        and cycles.cycle_start >= cycles.trial_end
),

billed_cycles as (
    select cycles.*, cycles.usage_bill_date as invoice_date
    from int_allotments_applied_across_cycles as cycles
    cross join params
    where cycles.usage_bill_date < params.range_end
        and cycles.is_enabled
),

usage_lines as (
    select
        billed_cycles.*,
        case when is_metered then 'usage' else 'overage' end as line_type,
        case when is_metered then 2 else 3 end as line_order,
        billable_units as line_quantity,
        case when is_metered then unit_fee else overage_fee end as unit_price,
        'metered=' || metered_source
            || case when is_metered then ', unit_fee=' || unit_fee_source
                else ', overage_fee=' || overage_fee_source end
            || ', included_units=' || included_units_source || ', bonus_units=' || bonus_units_source
            || ', max_units=' || max_units_source || ', trial_days=' || trial_days_source
            || ', enabled=' || enabled_source as price_source,
    from billed_cycles
    where is_metered or overage_fee is not null
),

minimum_lines as (
    select
        billed_cycles.*,
        'minimum' as line_type,
        4 as line_order,
        min_units - billable_units as line_quantity,
        unit_fee as unit_price,
        'metered=' || metered_source || ', unit_fee=' || unit_fee_source
            || ', min_units=' || min_units_source || ', enabled=' || enabled_source as price_source,
    from billed_cycles
    where is_metered and billable_units < min_units and cycle_start >= trial_end
),

lines as (
    select
        reseller_id, client_id, item_code, line_type, line_order, currency, minor_unit,
        invoice_date, cycle_start, cycle_end as window_end, cycle_start as window_start,
        line_quantity, unit_price, price_source, cycle_no, pricing_rows,
    from fee_lines
    union all by name
    select
        reseller_id, client_id, item_code, line_type, line_order, currency, minor_unit,
        invoice_date, cycle_start, window_end, window_start, line_quantity, unit_price, price_source, cycle_no,
        pricing_rows,
    from usage_lines
    union all by name
    select
        reseller_id, client_id, item_code, line_type, line_order, currency, minor_unit,
        invoice_date, cycle_start, window_end, window_start, line_quantity, unit_price, price_source, cycle_no,
        pricing_rows,
    from minimum_lines
),

final as (
    select
        lines.reseller_id,
        lines.client_id,
        lines.item_code,
        lines.line_type,
        items.item_name || case lines.line_type
            when 'cycle_fee' then ' - cycle fee '
            when 'usage' then ' - usage '
            when 'overage' then ' - overage '
            when 'minimum' then ' - minimum shortfall '
        end || strftime(lines.window_start, '%Y-%m-%d') || ' to ' || strftime(lines.window_end, '%Y-%m-%d')
            as description,
        lines.price_source || '; rows in force: ' || coalesce(nullif(lines.pricing_rows, ''), 'none')
            as price_source,
        lines.currency,
        items.sort_order * 10 + lines.line_order as line_sort,
        cast(lines.line_quantity as decimal(18, 6)) as quantity,
        cast(lines.unit_price as decimal(18, 6)) as unit_price,
        round_money(cast(lines.line_quantity as decimal(38, 6)) * cast(lines.unit_price as decimal(38, 6)),
            lines.minor_unit) as amount,
        lines.invoice_date,
        lines.cycle_start,
        lines.window_start,
        lines.window_end,
        lines.cycle_no,
    from lines
    inner join items using (reseller_id, item_code)
)

select * from final where amount <> 0
