-- int_prepaid_balance_daily: one row per prepaid client x day with a drawdown, from its
-- prepaid_from up to the range's end (billing-rules.md section 6). A day's drawdown = its
-- usage drawn (int_prepaid_usage_drawn_daily) + the minimums billed that day + its lead
-- sales less returns. With opening balance 0 and cumulative drawdown C, replenishments so
-- far = max(0, ceil(C / A)), never fewer than the day before (a return does not undo a
-- top-up); the day's new increments are bought on a replenishment invoice; balance after
-- the day = increments so far x A - C, never below 0.
-- Written as Parquet, read through a view (10M events: 0.35 s against 0.35 s as a DuckDB table).
-- materialize: parquet
with prepaid as (
    select * from int_prepaid_clients
),

usage_drawn as (
    select reseller_id, client_id, usage_day as drawn_on, amount from int_prepaid_usage_drawn_daily
),

minimums_drawn as (
    select lines.reseller_id, lines.client_id, lines.invoice_date as drawn_on, lines.amount
    from int_cycle_lines_priced as lines
    inner join prepaid using (reseller_id, client_id)
    where lines.line_type = 'minimum' and lines.window_start >= prepaid.prepaid_from
),

leads_drawn as (
    select lines.reseller_id, lines.client_id, lines.invoice_date as drawn_on, lines.amount
    from int_lead_lines_priced as lines
    inner join prepaid using (reseller_id, client_id)
    where lines.invoice_date >= prepaid.prepaid_from
),

days as (
    select reseller_id, client_id, drawn_on, sum(amount) as drawdown
    from (select * from usage_drawn union all select * from minimums_drawn union all select * from leads_drawn) as drawn
    group by all
),

running as (
    select
        days.*,
        prepaid.replenishment_amount,
        sum(days.drawdown) over so_far as drawn_so_far,
    from days
    inner join prepaid using (reseller_id, client_id)
    window so_far as (
        partition by days.reseller_id, days.client_id order by days.drawn_on
        rows between unbounded preceding and current row
    )
),

counted as (
    select
        running.*,
        -- ceil(C / A) in exact integer micro-units (decimal division would go through a double)
        case
            when drawn_so_far <= 0 then 0
            else (cast(drawn_so_far * 1000000 as hugeint) + cast(replenishment_amount * 1000000 as hugeint) - 1)
                // cast(replenishment_amount * 1000000 as hugeint)
        end as needed_so_far,
    from running
),

topped as (
    select
        counted.*,
        max(needed_so_far) over (
            partition by reseller_id, client_id order by drawn_on rows between unbounded preceding and current row
        ) as replenishments_so_far,
    from counted
),

final as (
    select
        reseller_id,
        client_id,
        drawn_on,
        cast(drawdown as decimal(18, 2)) as drawdown,
        cast(drawn_so_far as decimal(18, 2)) as drawn_so_far,
        cast(replenishments_so_far as bigint) as replenishments_so_far,
        cast(replenishments_so_far - coalesce(lag(replenishments_so_far) over by_day, 0) as bigint)
            as replenishments,
        replenishment_amount,
        cast(replenishments_so_far * replenishment_amount - drawn_so_far as decimal(18, 2)) as balance_after,
    from topped
    window by_day as (partition by reseller_id, client_id order by drawn_on)
)

select * from final
