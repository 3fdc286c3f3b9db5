-- check frame for the rejects suites: one row per rejected input row.
select table_name, source_file, source_line, reason from rejects
