-- int_prepaid_usage_drawn_daily: one row per prepaid client x item x cycle x day with
-- billable usage (billing-rules.md section 6). Usage is drawn the day it occurs, so the
-- cycle's allotments are used up first in time order: units billable through a day =
-- max(min(Q so far, max_units) - included - bonus available at the cycle's start, 0), Q so
-- far being the running sum (`sum` items) or running peak (`max` items) of the cycle's
-- usage after its trial; the day draws the increase, priced and rounded to the minor unit.
-- Only cycles whose window starts on or after the client's prepaid_from are drawn.
-- Days meet their cycle, and a cycle's days are ordered, on the client's and item's numbers
-- (client_no, item_no: see int_usage_events_usable), not on their three key texts.
-- Written as Parquet, read through a view (10M events: 1.1 s against 1.5 s as a DuckDB table).
-- materialize: parquet
with prepaid as (
    select * from int_prepaid_clients
),

cycles as (
    select cycles.*
    from int_allotments_applied_across_cycles as cycles
    inner join prepaid using (reseller_id, client_id)
    where cycles.is_enabled
        and (cycles.is_metered or cycles.overage_fee is not null)
        and cycles.window_start >= prepaid.prepaid_from
),

days as (
    select
        cycles.reseller_id,
        cycles.client_id,
        cycles.item_code,
        cycles.client_no,
        cycles.item_no,
        cycles.cycle_no,
        daily.usage_day,
        daily.day_sum,
        daily.day_peak,
    from int_usage_aggregated_daily as daily
    inner join cycles
        on cycles.client_no = daily.client_no
        and cycles.item_no = daily.item_no
        and daily.usage_day >= cycles.window_start
        and daily.usage_day < cycles.window_end
        and daily.usage_day >= cycles.trial_end
),

cumulative as (
    select
        days.*,
        cycles.aggregation,
        cycles.max_units,
        cycles.included_units,
        cycles.bonus_available,
        cycles.minor_unit,
        case when cycles.is_metered then cycles.unit_fee else cycles.overage_fee end as unit_price,
        case
            when cycles.aggregation = 'max' then max(days.day_peak) over so_far
            else sum(days.day_sum) over so_far
        end as quantity_so_far,
    from days
    inner join cycles using (client_no, item_no, cycle_no)
    window so_far as (
        partition by days.client_no, days.item_no, days.cycle_no
        order by days.usage_day rows between unbounded preceding and current row
    )
),

billable as (
    select
        cumulative.*,
        greatest(
            least(quantity_so_far, coalesce(max_units, quantity_so_far)) - included_units - bonus_available, 0
        ) as billable_so_far,
    from cumulative
),

final as (
    select
        reseller_id,
        client_id,
        item_code,
        cycle_no,
        usage_day,
        unit_price,
        cast(billable_so_far - coalesce(lag(billable_so_far) over by_cycle, 0) as decimal(38, 6)) as units_drawn,
        round_money(
            cast(billable_so_far - coalesce(lag(billable_so_far) over by_cycle, 0) as decimal(38, 6))
                * cast(unit_price as decimal(38, 6)),
            minor_unit) as amount,
    from billable
    window by_cycle as (partition by client_no, item_no, cycle_no order by usage_day)
)

select * from final where amount <> 0
