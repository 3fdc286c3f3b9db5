-- int_allotments_applied_across_cycles: one row per client x item x cycle with its usage
-- split into units (billing-rules.md section 4), cycle by cycle in order:
--   blocked = max(Q - max_units, 0); Q' = Q - blocked;
--   included = min(Q', included_units)            (per cycle, no roll-over);
--   bonus    = min(Q' - included, pool remaining) (the pool is shared by all cycles);
--   billable = Q' - included - bonus.
-- The pool remaining before a cycle is that cycle's bonus_units (as priced on its start)
-- less the bonus units used by all earlier cycles, never below 0: raising bonus_units later
-- grants only the difference. A cycle of an item that is not enabled uses no allotment
-- and bills nothing (its units stay in the usage summary). Only items with a pool list all
-- their cycles (has_full_history); the carry is walked over those, in cycle order.
with recursive cycles as (
    select
        *,
        case when is_enabled and max_units is not null then greatest(quantity - max_units, 0) else 0 end
            as blocked_units,
    from int_usage_rolled_up_to_cycles
),

split as (
    select
        *,
        case when is_enabled then least(quantity - blocked_units, included_units) else 0 end
            as included_units_used,
        case when is_enabled then quantity - blocked_units - least(quantity - blocked_units, included_units)
            else 0 end as excess_units,
    from cycles
),

pool as (
    select
        reseller_id,
        client_id,
        item_code,
        cycle_no,
        cast(greatest(bonus_units, 0) as decimal(38, 6)) as bonus_available,
        cast(least(excess_units, greatest(bonus_units, 0)) as decimal(38, 6)) as bonus_units_used,
        cast(least(excess_units, greatest(bonus_units, 0)) as decimal(38, 6)) as bonus_used_through,
    from split
    where cycle_no = 1 and has_full_history

    union all

    select
        pool.reseller_id,
        pool.client_id,
        pool.item_code,
        split.cycle_no,
        cast(greatest(split.bonus_units - pool.bonus_used_through, 0) as decimal(38, 6)) as bonus_available,
        cast(least(split.excess_units, greatest(split.bonus_units - pool.bonus_used_through, 0))
            as decimal(38, 6)) as bonus_units_used,
        cast(pool.bonus_used_through
            + least(split.excess_units, greatest(split.bonus_units - pool.bonus_used_through, 0))
            as decimal(38, 6)) as bonus_used_through,
    from pool
    inner join split
        on split.reseller_id = pool.reseller_id
        and split.client_id = pool.client_id
        and split.item_code = pool.item_code
        and split.cycle_no = pool.cycle_no + 1
),

final as (
    select
        split.* exclude (excess_units),
        case when split.is_enabled then coalesce(pool.bonus_available, split.bonus_units) else 0 end
            as bonus_available,
        coalesce(pool.bonus_units_used, 0) as bonus_units_used,
        split.excess_units - coalesce(pool.bonus_units_used, 0) as billable_units,
    from split
    left join pool using (reseller_id, client_id, item_code, cycle_no)
)

select * from final
