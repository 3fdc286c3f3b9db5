-- check frame template for an extract table's suites (built per table by
-- transforms/validation.py): a fixed sample of at most 5,000 used rows, each with
-- the table-wide count of used rows and of distinct keys, so GX checks values on the sample
-- and key uniqueness on the whole table without moving it into pandas.
--
-- The used rows are those this run judged ({judged}) and, for the usage events of a run
-- that kept an earlier run's verdicts, the kept rows ({kept}; else no rows): runs that
-- passed these checks found the kept rows' keys unique, so what is counted anew is the
-- judged rows' keys, among themselves and against the kept keys, and the sample is of the
-- judged rows. A night then checks its new events, not the month's again.
with used as not materialized (  -- read once per use: a 100M-event table is not copied for the check
    select columns(lambda c: c not in ('is_duplicate', 'reject_reason') and not starts_with(c, '_')),  -- no bookkeeping
        _key_hash,
    from {judged}
    where reject_reason is null and not is_duplicate
),

kept as not materialized (
    select _key_hash, {kept_key_columns}
    from {kept}
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

-- the judged keys that are also kept keys: the kept rows sharing a judged row's hash (the
-- join's table is built on the judged rows), then compared exactly
judged_hashes as (
    select distinct _key_hash from used
),

kept_sharing_a_hash as (
    select kept.*
    from kept
    semi join judged_hashes using (_key_hash)
),

keys_also_kept as (
    select count(*) as keys
    from (
        select distinct used._key_hash, {key_columns}
        from used
        inner join kept_sharing_a_hash as kept on kept._key_hash = used._key_hash and {key_match}
    ) as exact_keys
),

kept_count as (
    select count(*)::bigint as kept_rows from kept
),

counts as (
    select
        used_count.used_rows + kept_count.kept_rows as used_rows,
        used_count.used_rows - (select count(*) from rows_repeating_a_hash)
        + (select keys_sharing_a_hash.extra_keys from keys_sharing_a_hash)
        + kept_count.kept_rows - (select keys_also_kept.keys from keys_also_kept) as distinct_keys,
    from (select count(*)::bigint as used_rows from used) as used_count
    cross join kept_count
)

-- the sample: the 5,000 used rows of smallest key hash (the same rows whatever order the
-- table holds them in, unlike a seeded reservoir sample over several threads)
select sampled.* exclude (_key_hash), counts.*
from (select * from used order by _key_hash, {key_columns} limit 5000) as sampled
cross join counts
order by sampled._key_hash, {sampled_key_columns}
