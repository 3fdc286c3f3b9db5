-- check frame template for an extract table's suites (built per table by
-- transforms/validation.py): a deterministic sample of at most 5,000 used rows, each with
-- the table-wide count of used rows and of distinct keys, so GX checks values on the sample
-- and key uniqueness on the whole table without moving it into pandas.
with used as (
    select * exclude (_key_hash, _row_hash, _source_file, _source_line, is_duplicate, reject_reason),
        _key_hash,
    from int_{table}_validated
    where reject_reason is null and not is_duplicate
),

-- distinct keys by a grouping (it can spill to disk; count(distinct) over 100M keys cannot)
counts as (
    select coalesce(sum(rows_with_key), 0)::bigint as used_rows, count(*) as distinct_keys
    from (select count(*) as rows_with_key from used group by _key_hash) as keyed
)

select sampled.* exclude (_key_hash), counts.*
from (select * from used using sample 5000 rows (reservoir, 7)) as sampled
cross join counts
