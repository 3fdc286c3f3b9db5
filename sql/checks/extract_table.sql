-- check frame template for an extract table's suites (built per table by
-- transforms/validation.py): a fixed sample of at most 5,000 used rows, each with
-- the table-wide count of used rows and of distinct keys, so GX checks values on the sample
-- and key uniqueness on the whole table without moving it into pandas.
with used as not materialized (  -- read once per use: a 100M-event table is not copied for the check
    select * exclude (_key_hash, _row_hash, _source_file, _source_line, is_duplicate, reject_reason),
        _key_hash,
    from int_{table}_validated
    where reject_reason is null and not is_duplicate
),

-- keys counted by their 64-bit hash (a grouping can spill to disk; count(distinct) over 100M
-- keys cannot), then exactly among the rows whose hash repeats: two different keys sharing
-- a hash are two keys, not a broken uniqueness
keyed as (
    select _key_hash, count(*) as rows_with_key from used group by _key_hash
),

keys_sharing_a_hash as (
    select count(*) - count(distinct _key_hash) as extra_keys
    from (
        select distinct used._key_hash, {key_columns}
        from used
        semi join keyed on keyed._key_hash = used._key_hash and keyed.rows_with_key > 1
    ) as exact_keys
),

counts as (
    select
        coalesce(sum(keyed.rows_with_key), 0)::bigint as used_rows,
        (count(*) + (select keys_sharing_a_hash.extra_keys from keys_sharing_a_hash))::bigint as distinct_keys,
    from keyed
)

-- the sample: the 5,000 used rows of smallest key hash (the same rows whatever order the
-- table holds them in, unlike a seeded reservoir sample over several threads)
select sampled.* exclude (_key_hash), counts.*
from (select * from used order by _key_hash, {key_columns} limit 5000) as sampled
cross join counts
order by sampled._key_hash, {sampled_key_columns}
