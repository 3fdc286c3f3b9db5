-- check frame for the runs suites: one row per extract table, its row counts this run and
-- in the previous run of the same period (rows read = used + rejected + duplicates is a
-- fail; a move of more than 50% against the last run is a warn).
select
    counts.table_name,
    counts.rows_read,
    counts.is_reconciled,
    coalesce(previous.rows_read is not null and previous.rows_read > 0
        and abs(counts.rows_read - previous.rows_read) > previous.rows_read / 2, false) as has_moved_over_50pct,
from int_input_rows_reconciled as counts
left join prior_row_counts as previous using (table_name)
