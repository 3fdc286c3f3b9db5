-- check frame template for an extract table's suites (built per table by
-- transforms/validation.py): a fixed sample of at most 5,000 used rows, each with
-- the table-wide count of used rows and of distinct keys, so GX checks values on the sample
-- and key uniqueness on the whole table without moving it into pandas.
with used as not materialized (  -- read once per use: a 100M-event table is not copied for the check
    select columns(lambda c: c not in ('is_duplicate', 'reject_reason') and not starts_with(c, '_')),  -- no bookkeeping
        _key_hash,
    from int_{table}_validated
    where reject_reason is null and not is_duplicate
),

-- keys counted by their 64-bit hash, then exactly among the rows whose hash repeats: two
-- different keys sharing a hash are two keys, not a broken uniqueness. Rows are numbered
-- within their hash in a window, which spills to disk in order (grouping 100M hashes at a
-- 2GB limit can fail to allocate; count(distinct) cannot spill); only the rows after the
-- first of their hash come out of it.
rows_repeating_a_hash as (
    select _key_hash
    from (select _key_hash, row_number() over (partition by _key_hash) as nth_row from used) as numbered
    where nth_row > 1
),

keys_sharing_a_hash as (
    select count(*) - count(distinct _key_hash) as extra_keys
    from (
        select distinct used._key_hash, {key_columns}
        from used
        semi join rows_repeating_a_hash using (_key_hash)
    ) as exact_keys
),

counts as (
    select
        used_rows,
        used_rows - (select count(*) from rows_repeating_a_hash)
        + (select keys_sharing_a_hash.extra_keys from keys_sharing_a_hash) as distinct_keys,
    from (select count(*)::bigint as used_rows from used) as used_count
)

-- the sample: the 5,000 used rows of smallest key hash (the same rows whatever order the
-- table holds them in, unlike a seeded reservoir sample over several threads)
select sampled.* exclude (_key_hash), counts.*
from (select * from used order by _key_hash, {key_columns} limit 5000) as sampled
cross join counts
order by sampled._key_hash, {sampled_key_columns}
