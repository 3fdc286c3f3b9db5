-- int_cycle_lines_priced: one row per cycle-invoice line of the listed cycles dated in the
-- run's range, and, for prepaid clients, their usage lines dated earlier too (their balance
-- draws every minimum since they became prepaid): client x bill date x item x line type
-- (billing-rules.md sections 3-4). Items with a bonus pool and prepaid clients also list
-- earlier cycles (int_cycle_starts_listed): their fee lines, and a postpaid client's usage
-- lines, would be priced here only for int_invoice_lines_wanted to drop them.
--   cycle_fee: on a cycle start, in advance, for [start, start + cycle_months); waived when
--     the cycle starts before start_date + trial_days; none on or after the cancel date.
--   usage / minimum (metered): billable x unit_fee; when billable < min_units, a minimum
--     line for the shortfall x unit_fee, on every invoice that bills the item's usage
--     (none for a window whose cycle starts inside the trial).
--   overage (bundle): billable x overage_fee; no line when overage_fee is empty.
-- Each amount is rounded once to the currency's minor unit; lines of amount 0 are dropped.
-- Written as Parquet, read through a view (10M events: ~2.3M lines, 2.7 s against 3.1 s as a DuckDB table).
-- materialize: parquet
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
    from int_cycles_priced_and_windowed as cycles
    cross join params
    where cycles.cycle_start >= params.range_start
        and cycles.cycle_start < params.range_end
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
        and (cycles.usage_bill_date >= params.range_start or exists (
            select 1 from int_prepaid_clients as prepaid
            where prepaid.reseller_id = cycles.reseller_id and prepaid.client_id = cycles.client_id
        ))
),

usage_lines as (
    select
        billed_cycles.*,
        case when is_metered then 'usage' else 'overage' end as line_type,
        case when is_metered then 2 else 3 end as line_order,
        billable_units as line_quantity,
        case when is_metered then unit_fee else overage_fee end as unit_price,
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
    from billed_cycles
    where is_metered and billable_units < min_units and cycle_start >= trial_end
),

lines as (
    select
        reseller_id, client_id, item_code, line_type, line_order, currency, minor_unit,
        invoice_date, cycle_start, cycle_end as window_end, cycle_start as window_start,
        line_quantity, unit_price, cycle_no, priced_from,
    from fee_lines
    union all by name
    select
        reseller_id, client_id, item_code, line_type, line_order, currency, minor_unit,
        invoice_date, cycle_start, window_end, window_start, line_quantity, unit_price, cycle_no,
        priced_from,
    from usage_lines
    union all by name
    select
        reseller_id, client_id, item_code, line_type, line_order, currency, minor_unit,
        invoice_date, cycle_start, window_end, window_start, line_quantity, unit_price, cycle_no,
        priced_from,
    from minimum_lines
),

-- the item's name and sort order are joined after the option sources: the sources' join
-- holds the priced lines in its hash table, and without the description they take ~75 MiB
-- less at 10M events (the build's peak is this model's: invoice_lines, numbered on its keys,
-- stays below it)
amounts as (
    select
        reseller_id,
        client_id,
        item_code,
        line_type,
        line_order,
        currency,
        cast(line_quantity as decimal(18, 6)) as quantity,
        cast(unit_price as decimal(18, 6)) as unit_price,
        round_money(cast(line_quantity as decimal(38, 6)) * cast(unit_price as decimal(38, 6)), minor_unit) as amount,
        invoice_date,
        cycle_start,
        window_start,
        window_end,
        cycle_no,
        priced_from,
    from lines
),

-- where each option of the line's change point came from, as option_source codes (none in force:
-- every option 'default')
sources as (
    select
        reseller_id,
        client_id,
        item_code,
        valid_from as priced_from,
        enabled_source,
        cycle_fee_source,
        cycle_months_source,
        trial_days_source,
        unit_fee_source,
        included_units_source,
        bonus_units_source,
        metered_source,
        overage_fee_source,
        max_units_source,
        min_units_source,
        concat_ws(', ',
            'account ' || strftime(account_row_effective_from, '%Y-%m-%d'),
            'group ' || strftime(group_row_effective_from, '%Y-%m-%d'),
            'client ' || strftime(client_row_effective_from, '%Y-%m-%d')
        ) as pricing_rows,
    from int_prices_resolved_by_hierarchy
),

sourced as (
    select
        amounts.* exclude (priced_from),
        option_source_label(sources.enabled_source) as enabled_source,
        option_source_label(sources.cycle_fee_source) as cycle_fee_source,
        option_source_label(sources.cycle_months_source) as cycle_months_source,
        option_source_label(sources.trial_days_source) as trial_days_source,
        option_source_label(sources.unit_fee_source) as unit_fee_source,
        option_source_label(sources.included_units_source) as included_units_source,
        option_source_label(sources.bonus_units_source) as bonus_units_source,
        option_source_label(sources.metered_source) as metered_source,
        option_source_label(sources.overage_fee_source) as overage_fee_source,
        option_source_label(sources.max_units_source) as max_units_source,
        option_source_label(sources.min_units_source) as min_units_source,
        coalesce(nullif(sources.pricing_rows, ''), 'none') as pricing_rows,
        items.item_name,
        items.sort_order,
    from amounts
    left join sources using (reseller_id, client_id, item_code, priced_from)
    inner join items using (reseller_id, item_code)
    where amounts.amount <> 0
),

final as (
    select
        reseller_id,
        client_id,
        item_code,
        line_type,
        item_name || case line_type
            when 'cycle_fee' then ' - cycle fee '
            when 'usage' then ' - usage '
            when 'overage' then ' - overage '
            when 'minimum' then ' - minimum shortfall '
        end || strftime(window_start, '%Y-%m-%d') || ' to ' || strftime(window_end, '%Y-%m-%d') as description,
        case line_type
            when 'cycle_fee' then 'cycle_fee=' || cycle_fee_source || ', cycle_months=' || cycle_months_source
                || ', trial_days=' || trial_days_source || ', enabled=' || enabled_source
            when 'minimum' then 'metered=' || metered_source || ', unit_fee=' || unit_fee_source
                || ', min_units=' || min_units_source || ', enabled=' || enabled_source
            else 'metered=' || metered_source
                || case line_type when 'usage' then ', unit_fee=' || unit_fee_source
                    else ', overage_fee=' || overage_fee_source end
                || ', included_units=' || included_units_source || ', bonus_units=' || bonus_units_source
                || ', max_units=' || max_units_source || ', trial_days=' || trial_days_source
                || ', enabled=' || enabled_source
        end || '; rows in force: ' || pricing_rows as price_source,
        currency,
        sort_order * 10 + line_order as line_sort,
        quantity,
        unit_price,
        amount,
        invoice_date,
        cycle_start,
        window_start,
        window_end,
        cycle_no,
    from sourced
)

select * from final
