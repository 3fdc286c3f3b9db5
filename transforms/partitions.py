"""Scale-out: the billing models built per partition of clients, then merged.

Ingest stays whole (an exact duplicate or a conflicting key can sit anywhere in an extract),
and so do the two models that count every input row (`int_input_rows_reconciled`,
`rejects`). Every other billing model reads one client at a time, so it can be built in a
separate DuckDB file per partition: the partition attaches the staged work database read
only and sees, under the usual table names, the rows of its own clients (partition =
hash(reseller_id, client_id) mod n) plus every row that belongs to no client (resellers,
groups, account- and group-level pricing, run parameters). Outputs are merged back into the
work database, where validation and publication run as in a single-process run; published
files are sorted by their keys, so they are byte for byte those of the single-process run.
"""

from pathlib import Path

import duckdb

from transforms import carried, graph, models


def whole_models() -> tuple[str, ...]:
    """Billing models that read the raw extracts: they need every input row (rejects)."""
    return tuple(name for name in graph.stage("billing") if graph.reads_raw(name))


def partition_models() -> tuple[str, ...]:
    return tuple(name for name in graph.stage("billing") if name not in whole_models())


def merged_models() -> tuple[str, ...]:
    """The partitions' tables merged back (a view model lives only where its reader was built)."""
    return tuple(name for name in partition_models() if name not in graph.views())


def partition_path(work_db: Path, partition: int) -> Path:
    return work_db.with_name(f"partition-{partition}.duckdb")


def build_partition(work_db: Path, partition: int, partitions: int, threads: int | None = None) -> Path:
    """Build the per-client billing models for one partition into its own DuckDB file."""
    path = partition_path(work_db, partition)
    path.unlink(missing_ok=True)
    con = models.connect(path)
    try:
        if threads:
            con.execute("set threads = $threads", {"threads": threads})
        con.execute("attach $path as staged (read_only)", {"path": str(work_db)})
        for table, has_client in _staged_tables(con):
            where = (
                " where client_id is null or hash(reseller_id, client_id) % $partitions = $partition"
                if has_client else ""
            )
            # a view cannot hold bound values, so the partition's rows are copied into temp tables
            con.execute(
                f"create temp table {table} as select * from staged.main.{table}{where}",
                {"partitions": partitions, "partition": partition} if has_client else {},
            )
        for name in partition_models():
            models.build_model(con, name)
    finally:
        con.close()
    return path


def merge_partitions(work_db: Path, partition_dbs: list[Path]) -> None:
    """Union the partitions' tables into the work database, then build the whole-input models."""
    con = models.connect(work_db)
    try:
        for number, path in enumerate(partition_dbs):
            con.execute(f"attach $path as partition_{number} (read_only)", {"path": str(path)})
        for name in merged_models():
            union = " union all by name ".join(
                f"select * from partition_{number}.main.{name}" for number in range(len(partition_dbs))
            )
            con.execute(f"create or replace table {name} as {union}")
        for number in range(len(partition_dbs)):
            con.execute(f"detach partition_{number}")
        for name in whole_models():
            models.build_model(con, name)
    finally:
        con.close()
    for path in partition_dbs:
        path.unlink(missing_ok=True)


def _staged_tables(con: duckdb.DuckDBPyConnection) -> list[tuple[str, bool]]:
    """The staged tables the billing models read (not the raw, typed or deduplicated
    steps of ingest, which only the whole-input models need), and whether each is per client."""
    tables = con.execute(
        "select table_name, bool_or(column_name = 'client_id') and bool_or(column_name = 'reseller_id') "
        "from information_schema.columns where table_catalog = 'staged' and table_schema = 'main' "
        "group by table_name order by table_name"
    ).fetchall()
    return [
        (table, has_client) for table, has_client in tables
        if (not table.startswith(("raw_", "stg_")) and not table.endswith("_deduplicated")
            and table not in carried.WORK_TABLES) or table in graph.seeds()
    ]
