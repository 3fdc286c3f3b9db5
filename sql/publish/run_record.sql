-- run_record: the run's one row of `runs` (data-contract.md "Outputs"): what it read (files
-- with their SHA-256, row counts per extract table), what it wrote, its validation, and the
-- versions that wrote its files; bound: $started_at, $finished_at, $duckdb_version, $pyarrow_version.
select
    run_params.run_id,
    run_params.command,
    run_params.period,
    run_params.range_start,
    run_params.range_end,
    run_params.status_date,
    run_params.as_of,
    'succeeded' as status,
    coalesce((select any_value(summary) from validation_summary), 'not run') as validation,
    (select list(finding order by suite, finding) from validation_findings) as validation_findings,
    (select list(struct_pack(table_name, path, sha256) order by table_name, path) from input_files)
        as input_files,
    (select list(struct_pack(table_name, rows_read, rows_used, rows_rejected, duplicates_collapsed,
        is_reconciled) order by table_name) from int_input_rows_reconciled) as row_counts,
    (select count(*) from invoices) as invoices_written,
    (select count(*) from invoice_lines) as invoice_lines_written,
    (select count(*) from usage_summary) as usage_summary_rows,
    (select count(*) from rejects) as rejects_written,
    $started_at::timestamp as started_at,
    $finished_at::timestamp as finished_at,
    $duckdb_version::varchar as duckdb_version,
    $pyarrow_version::varchar as pyarrow_version,
from run_params
