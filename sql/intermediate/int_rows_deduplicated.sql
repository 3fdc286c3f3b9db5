-- int_<table>_deduplicated: one row per staged input row of one extract table, with
-- duplicate keys resolved (data-contract.md "Extracts"). A template: transforms/models.py
-- builds it once per extract table as a view, filling in the table name, key columns and labels.
-- Ids are text without control characters (data-contract.md "Extracts"): a row whose key
-- holds one is rejected here, before duplicates are looked for; a reference holding one
-- matches no key, so it is rejected as unknown.
-- Rule: rows sharing a key with the same content count once (the first by file, line is
-- kept, the others get is_duplicate); rows sharing a key with different content are all
-- rejected. Keys are compared by a 64-bit hash first and exactly only among rows whose hash
-- repeats, so the full-width comparison runs on a few suspects, not on every row.
-- materialize: view (the validation reads it once: 10M events are not copied again)
with staged as not materialized (  -- read again by each use: a 100M-event CTE kept in memory does not fit a 2GB limit
    select
        * replace (
            coalesce(
                reject_reason,
                case when has_control_character(concat({key_columns}))
                    then '{key_names} holds a control character (ids are text without them)'
                end
            ) as reject_reason
        ),
    from stg_{table}
),

-- The key hashes more than one row shares: listed by the run before this view is read
-- (transforms/models.py `repeated_key_hashes_listed`), else found here over every row (the
-- keys alone are read). A listed set is a constant to DuckDB, which plans that pass away.
repeated_key_hashes as (
    select unnest(getvariable('{table}_repeated_key_hashes')) as _key_hash
    union all
    select _key_hash
    from repeated_key_hashes_of('stg_{table}')
    where getvariable('{table}_repeated_key_hashes') is null
),

-- suspects keep the valid ones. When the run picked out the few lines they are on, the filter
-- on those is applied where the extract is read (a line number is read, not a key hashed), so
-- only the rows at those lines, in any file, are typed and checked again.
suspects as (
    select staged.*
    from staged
    semi join repeated_key_hashes using (_key_hash)
    where staged.reject_reason is null
        and coalesce(list_contains(getvariable('{table}_picked_lines'), staged._source_line), true)
),

suspect_verdicts as (
    select
        _source_file,
        _source_line,
        min(_row_hash) over by_key <> max(_row_hash) over by_key as is_conflicting,
        row_number() over (by_key order by _source_file, _source_line) > 1 as is_repeat,
    from suspects
    window by_key as (partition by {key_columns})
),

final as (
    select
        staged.* replace (
            coalesce(
                staged.reject_reason,
                case when suspect_verdicts.is_conflicting then
                    'conflicting duplicate ' || {key_label}
                    || ': another row has the same key with different values'
                end
            ) as reject_reason
        ),
        coalesce(not suspect_verdicts.is_conflicting and suspect_verdicts.is_repeat, false)
            as is_duplicate,
    from staged
    left join suspect_verdicts using (_source_file, _source_line)
)

select * from final
