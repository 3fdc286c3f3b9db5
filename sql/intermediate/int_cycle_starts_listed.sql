-- int_cycle_starts_listed: one row per client x item x cycle start the billed period needs
-- (billing-rules.md section 3). Cycle 1 starts on the client's first bill date; each next
-- cycle starts cycle_months later, as priced on the cycle's own start. bill_no numbers bill
-- dates in months from the first one.
-- Most items keep one cycle length for good: their cycle starts are every m-th bill date,
-- so only the few that touch the period are listed (the cycle starting on the period's bill
-- date, the one whose usage it bills, and a cancelled client's last one). Items whose
-- length changes are walked from the first cycle. An item with a bonus pool, and every item
-- of a prepaid client, also list every earlier cycle holding usage (has_full_history): the
-- pool and the prepaid balance carry from the first cycle, but a cycle without usage uses
-- none of the pool and draws nothing, so leaving it out changes nothing (a client of seven
-- years would otherwise list ~90 cycles per item). A prepaid client's item with a minimum
-- lists every cycle up to the range's end: each cycle's minimum is drawn, usage or not.
-- Written as Parquet, read through a view by its one reader, int_cycles_priced_and_windowed: computed
-- inside that query, its hash tables and materialised pairs stayed in memory while the cycles
-- were priced and written (10M events, both models: 1.37 GiB at peak and 4.1-4.5 s in one query;
-- 0.95 GiB and 3.8-3.95 s apart).
-- materialize: parquet
with recursive clients as (
    select * from int_clients_listed_for_range
),

items as (
    select reseller_id, item_code, item_no from int_items_offered_by_resellers
),

prices as (  -- of the listed clients only (a night lists the day's billed clients and the prepaid ones)
    select prices.*
    from int_prices_resolved_by_hierarchy as prices
    semi join clients using (reseller_id, client_id)
),

priced_pairs as (
    select
        reseller_id,
        client_id,
        item_code,
        min(cycle_months) as min_months,
        max(cycle_months) as max_months,
        min(valid_from) as first_change,
        bool_or(bonus_units > 0) as has_pool,
        bool_or(min_units > 0) as has_minimum,
    from prices
    group by all
),

-- An item with an account-level pricing row is priced for every client of its reseller
-- (int_prices_resolved_by_hierarchy gives each client a change point at that row), so only
-- the events of the other items can be unpriced: they are found against this handful of
-- reseller x item pairs first (by item_no, which numbers reseller x item), and only they
-- probe the client pairs (every 10M event probing the 1.5M client pairs cost ~3.5 s; NOT
-- EXISTS hashed the events: ~9 s); the events' pairs are found on their numbers, then named
items_priced_for_every_client as (
    select distinct items.item_no
    from int_pricing_validated as pricing
    inner join items using (reseller_id, item_code)
    where pricing.level = 'account' and pricing.reject_reason is null and not pricing.is_duplicate
),

unpriced_usage_pairs as (
    select clients.reseller_id, clients.client_id, items.item_code, 1 as min_months, 1 as max_months,
        null::date as first_change, false as has_pool, false as has_minimum,
    from (
        select distinct events.client_no, events.item_no
        from int_usage_events_usable as events
        anti join items_priced_for_every_client using (item_no)
    ) as used
    inner join clients using (client_no)
    inner join items using (item_no)
    anti join priced_pairs
        on priced_pairs.reseller_id = clients.reseller_id
        and priced_pairs.client_id = clients.client_id
        and priced_pairs.item_code = items.item_code
),

pool_pairs as (  -- one row per pair (priced_pairs is grouped by it), so joining it keeps each event once
    select pairs.reseller_id, pairs.client_id, pairs.item_code, clients.client_no, items.item_no
    from priced_pairs as pairs
    inner join clients using (reseller_id, client_id)
    inner join items using (reseller_id, item_code)
    where pairs.has_pool
),

-- the days with usage of the pool items (apart from the anti join: probing a few pool pairs
-- costs a 10M period ~0.3 s) and of the prepaid clients (their daily roll-up)
usage_days as (
    select pool_pairs.reseller_id, pool_pairs.client_id, pool_pairs.item_code,
        cast(events.occurred_at as date) as occurred_on,
    from int_usage_events_usable as events
    inner join pool_pairs using (client_no, item_no)
    union
    select reseller_id, client_id, item_code, usage_day as occurred_on
    from int_usage_aggregated_daily
),

pairs as (
    select
        all_pairs.* replace (all_pairs.has_pool or clients.is_prepaid as has_pool),
        clients.is_prepaid,
        clients.first_bill_date,
        clients.period_bill_no,
        clients.horizon_bill_no,
        clients.period_bill_no = clients.final_bill_no as is_final_bill,
        clients.last_start_bill_no,
        not (all_pairs.min_months = all_pairs.max_months  -- noqa: LT01, LT06
            and (all_pairs.min_months = 1 or all_pairs.first_change <= clients.first_bill_date)) as is_walked,
    from (select * from priced_pairs union all select * from unpriced_usage_pairs) as all_pairs
    inner join clients using (reseller_id, client_id)
),

steady as (
    select
        reseller_id,
        client_id,
        item_code,
        min_months as months,
        has_pool,
        case
            when is_prepaid and has_minimum then range(0, horizon_bill_no // min_months + 1)
            else list_filter([
                case when period_bill_no % min_months = 0 then period_bill_no // min_months end,
                case when period_bill_no % min_months = 0 then period_bill_no // min_months - 1 end,
                case when is_final_bill then greatest(last_start_bill_no, 0) // min_months end
            ], lambda k: k >= 0)
        end as cycle_indexes,
    from pairs
    where not is_walked
),

-- the earlier cycles holding usage of a pool item or a prepaid client's item: an event on
-- day t is in the cycle started by the last bill date on or before t (cycle 1 before the
-- first bill date)
usage_cycles as (
    select distinct
        pairs.reseller_id, pairs.client_id, pairs.item_code, pairs.min_months as months, pairs.has_pool,
        greatest(bill_no_on_or_before(pairs.first_bill_date, days.occurred_on), 0) // pairs.min_months
            as cycle_index,
        pairs.horizon_bill_no // pairs.min_months as last_index,
    from usage_days as days
    inner join pairs using (reseller_id, client_id, item_code)
    where pairs.has_pool and not pairs.is_walked
),

-- a pair without a pool lists its few indexes once each (list_distinct); only the pool pairs'
-- indexes, listed and holding usage, can repeat one another (grouping every 10M-period pair: ~0.5 s)
steady_indexes as (
    select reseller_id, client_id, item_code, months, has_pool, unnest(list_distinct(cycle_indexes)) as cycle_index
    from steady
    where not has_pool
    union all
    select distinct reseller_id, client_id, item_code, months, has_pool, cycle_index
    from (
        select reseller_id, client_id, item_code, months, has_pool, unnest(cycle_indexes) as cycle_index
        from steady
        where has_pool
        union all
        select reseller_id, client_id, item_code, months, has_pool, cycle_index
        from usage_cycles
        where cycle_index <= last_index
    ) as pool_indexes
),

steady_starts as (
    select
        reseller_id, client_id, item_code, has_pool,
        cycle_index * months as bill_no,
        cycle_index + 1 as cycle_no,
    from steady_indexes
),

walked_bill_dates as (
    select
        reseller_id, client_id, item_code, horizon_bill_no as last_bill_no,
        unnest(range(0, horizon_bill_no + 1)) as bill_no,
        unnest(list_transform(range(0, horizon_bill_no + 1),
            lambda n: cast(first_bill_date + to_months(cast(n as integer)) as date))) as bill_date,
    from pairs
    where is_walked
),

walk_grid as (  -- the change point in force on each bill date: a hash join (an ASOF join sorted every
    -- listed client's change points even with no pair to walk: ~0.5 s of a 10M period)
    select dates.*, coalesce(prices.cycle_months, 1) as cycle_months,
    from walked_bill_dates as dates
    left join prices
        on prices.reseller_id = dates.reseller_id
        and prices.client_id = dates.client_id
        and prices.item_code = dates.item_code
        and dates.bill_date >= prices.valid_from
        and (dates.bill_date < prices.valid_until or prices.valid_until is null)
),

walk as (
    select reseller_id, client_id, item_code, bill_no, 1 as cycle_no
    from walk_grid
    where bill_no = 0

    union all

    select walk.reseller_id, walk.client_id, walk.item_code, walk.bill_no + walk_grid.cycle_months as bill_no,
        walk.cycle_no + 1 as cycle_no,
    from walk
    inner join walk_grid using (reseller_id, client_id, item_code, bill_no)
    where walk.bill_no + walk_grid.cycle_months <= walk_grid.last_bill_no
),

final as (
    select reseller_id, client_id, item_code, bill_no, cycle_no, has_pool as has_full_history
    from steady_starts
    union all
    select reseller_id, client_id, item_code, bill_no, cycle_no, true as has_full_history
    from walk
)

select * from final
