-- int_allotments_applied_across_cycles: one row per client x item x cycle with its usage
-- split into units (billing-rules.md section 4), cycle by cycle in order:
--   blocked = max(Q - max_units, 0); Q' = Q - blocked;
--   included = min(Q', included_units)            (per cycle, no roll-over);
--   bonus    = min(Q' - included, pool remaining) (the pool is shared by all cycles);
--   billable = Q' - included - bonus.
-- The pool remaining before a cycle is that cycle's bonus_units (as priced on its start)
-- less the bonus units used by all earlier cycles, never below 0: raising bonus_units later
-- grants only the difference. A cycle of an item that is not enabled uses no allotment
-- and bills nothing (its units stay in the usage summary). Only items with a pool list their
-- earlier cycles (has_full_history): every one that holds usage (int_cycle_starts_listed; a
-- cycle without usage uses none of the pool, so one left out changes nothing). While
-- bonus_units stays the same the carry has a closed form (a running sum capped at the pool);
-- a pool whose size changed is walked in cycle order, listed cycle after listed cycle.
-- Each cycle comes with its pricing columns from int_usage_rolled_up_to_cycles, so the
-- cycles are not joined back here; the pool's carry meets its cycle again on cycle_key (see
-- int_usage_rolled_up_to_cycles), one integer instead of four keys.
-- Written as Parquet, read through a view (10M events: ~3.2M rows x 40 columns, 5.5 s against 7-8 s as a DuckDB table).
-- materialize: parquet
with recursive rolled as (
    select * from int_usage_rolled_up_to_cycles
),

cycles as (
    select
        rolled.*,
        case when rolled.is_enabled and rolled.max_units is not null
            then greatest(rolled.quantity - rolled.max_units, 0) else 0 end as blocked_units,
    from rolled
),

split as (
    select
        cycles.*,
        case when is_enabled then least(quantity - blocked_units, included_units) else 0 end
            as included_units_used,
        case when is_enabled then quantity - blocked_units - least(quantity - blocked_units, included_units)
            else 0 end as excess_units,
    from cycles
),

pool_pairs as (
    select
        reseller_id,
        client_id,
        item_code,
        count(distinct greatest(coalesce(bonus_units, 0), 0)) = 1 as has_constant_pool,
    from split
    where has_full_history
    group by reseller_id, client_id, item_code
),

-- a pool that stays B: bonus used through cycle n = min(excess of cycles 1..n, B)
constant_through as (
    select
        split.cycle_key,
        split.reseller_id,
        split.client_id,
        split.item_code,
        split.cycle_no,
        cast(greatest(coalesce(split.bonus_units, 0), 0) as decimal(38, 6)) as bonus_cap,
        cast(least(sum(split.excess_units) over by_pair, greatest(coalesce(split.bonus_units, 0), 0))
            as decimal(38, 6)) as bonus_used_through,
    from split
    inner join pool_pairs using (reseller_id, client_id, item_code)
    where pool_pairs.has_constant_pool
    window by_pair as (
        partition by split.reseller_id, split.client_id, split.item_code
        order by split.cycle_no rows between unbounded preceding and current row
    )
),

constant_pool as (
    select
        cycle_key,
        bonus_cap - coalesce(lag(bonus_used_through) over by_pair, 0) as bonus_available,
        bonus_used_through - coalesce(lag(bonus_used_through) over by_pair, 0) as bonus_units_used,
    from constant_through
    window by_pair as (partition by reseller_id, client_id, item_code order by cycle_no)
),

-- a pool whose size changed is walked cycle by cycle (few pairs)
walked_split as (
    select split.*, row_number() over (partition by split.reseller_id, split.client_id, split.item_code
        order by split.cycle_no) as walk_no,
    from split
    inner join pool_pairs using (reseller_id, client_id, item_code)
    where not pool_pairs.has_constant_pool
),

walk as (
    select
        cycle_key,
        reseller_id,
        client_id,
        item_code,
        walk_no,
        cast(greatest(bonus_units, 0) as decimal(38, 6)) as bonus_available,
        cast(least(excess_units, greatest(bonus_units, 0)) as decimal(38, 6)) as bonus_units_used,
        cast(least(excess_units, greatest(bonus_units, 0)) as decimal(38, 6)) as bonus_used_through,
    from walked_split
    where walk_no = 1

    union all

    select
        walked_split.cycle_key,
        walk.reseller_id,
        walk.client_id,
        walk.item_code,
        walked_split.walk_no,
        cast(greatest(walked_split.bonus_units - walk.bonus_used_through, 0) as decimal(38, 6)) as bonus_available,
        cast(least(walked_split.excess_units, greatest(walked_split.bonus_units - walk.bonus_used_through, 0))
            as decimal(38, 6)) as bonus_units_used,
        cast(walk.bonus_used_through
            + least(walked_split.excess_units, greatest(walked_split.bonus_units - walk.bonus_used_through, 0))
            as decimal(38, 6)) as bonus_used_through,
    from walk
    inner join walked_split
        on walked_split.reseller_id = walk.reseller_id
        and walked_split.client_id = walk.client_id
        and walked_split.item_code = walk.item_code
        and walked_split.walk_no = walk.walk_no + 1
),

pool as (
    select * from constant_pool
    union all
    select cycle_key, bonus_available, bonus_units_used from walk
),

final as (
    select
        split.* exclude (cycle_key, aggregation, quantity, trial_units, event_count, blocked_units,
            included_units_used, excess_units),
        split.aggregation,
        split.quantity,
        split.trial_units,
        split.event_count,
        split.blocked_units,
        split.included_units_used,
        case when split.is_enabled then coalesce(pool.bonus_available, split.bonus_units) else 0 end
            as bonus_available,
        coalesce(pool.bonus_units_used, 0) as bonus_units_used,
        split.excess_units - coalesce(pool.bonus_units_used, 0) as billable_units,
    from split
    left join pool using (cycle_key)
)

select * from final
