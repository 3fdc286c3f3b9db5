"""Build the SQL models of sql/ into a DuckDB database, in the order their references give.

Every model is one file (sql/staging, sql/intermediate, sql/marts) whose name is the table
it creates; adding a model is adding a file. The build graph comes from the SQL itself
(transforms/graph.py reads each model's table references with DuckDB's parser), so no list
of models is kept here. The run's parameters (period, range, as-of date, run id) live in the
one-row table `run_params`, so no model reads a clock or has a value pasted into it.
"""

import hashlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb

from transforms import assets, graph, settings
from transforms.messages import one_line
from transforms.sqltext import literal, scan_path

SQL_DIR = assets.SQL_DIR

@dataclass(frozen=True)
class RunParams:
    """What one run bills: the bill dates in [range_start, range_end) (a whole period, or
    one night), with usage up to range_end; `as_of` is the day adjustments are issued."""

    run_id: str
    command: str  # run | nightly | demo | preview | simulate
    range_start: date
    range_end: date  # exclusive
    as_of: date
    usage_until: date | None = None  # exclusive; usage up to range_end unless given (a preview)
    publishes_preview: bool = False  # a nightly run publishes the night's invoice previews

    @property
    def period(self) -> str:
        """The YYYY-MM period the range's bill dates belong to (a range never spans two)."""
        return self.range_start.strftime("%Y-%m")

    @property
    def status_date(self) -> date:
        """Account status is computed as of the range's last day."""
        return date.fromordinal(self.range_end.toordinal() - 1)


# A work database smaller than this after ingest is kept open across the run's stages.
KEEP_OPEN_BELOW = 32 << 20


@contextmanager
def kept_open(db_path: Path, shared: bool = True) -> Iterator[None]:
    """Keep a small work database open while the run's stages each connect to it and close.

    DuckDB keeps one database instance per file and process while any connection to it is
    open, so each stage's `connect` then skips loading the catalogue and each close skips a
    checkpoint: ~0.1 s of a tiny extract's ~1.6 s run, whose seven connections each did both.
    Only for a small database: an open instance keeps its buffer cache, which at scale would
    carry the build's gigabyte into the validation stage; and only when no other connection
    attaches the file read-only (shared=False; see `pipeline.may_keep_open`)."""
    holder = duckdb.connect(str(db_path)) if shared and db_path.stat().st_size < KEEP_OPEN_BELOW else None
    try:
        yield
    finally:
        if holder is not None:
            holder.close()


def connect(db_path: Path | str = ":memory:") -> duckdb.DuckDBPyConnection:
    """A DuckDB connection with the macros; BILLING_DUCKDB_MEMORY_LIMIT (e.g. 2GB) caps it."""
    con = duckdb.connect(str(db_path))
    con.execute("set TimeZone = 'UTC'")
    con.execute("set enable_progress_bar = false")  # Dask workers would print it into the run's output
    memory_limit = settings.current().billing_duckdb_memory_limit
    if memory_limit:
        con.execute("set memory_limit = $limit", {"limit": memory_limit})
    _create_macros(con)
    return con


def _create_macros(con: duckdb.DuckDBPyConnection) -> None:
    """sql/macros.sql, unless the database file already holds this very text's macros.

    A run's tasks open the work database six times or more; creating the 22 macros in a
    file costs ~20 ms a time (catalogue writes), checking the digest macro ~1 ms. The digest
    is of the file's text, so a database written by other code gets this code's macros."""
    text = _read("macros.sql")
    digest = hashlib.sha256(text.encode()).hexdigest()
    try:
        if con.execute("select billing_macros_digest()").fetchone()[0] == digest:
            return
    except duckdb.CatalogException:
        pass
    con.execute(text)
    con.execute(f"create or replace macro billing_macros_digest() as {literal(digest)}")


def _read(relative: str) -> str:
    return (SQL_DIR / relative).read_text()


def read_model(name: str) -> str:
    """A model's SQL (a template instance's, filled in)."""
    return graph.models()[name].sql


def build_model(con: duckdb.DuckDBPyConnection, name: str, **parameters: str) -> None:
    """`create or replace table|view <name> as <its SQL>`; parameters override a model's
    declared defaults (the ledger built from a charge batch's entries)."""
    model = graph.models()[name]
    sql = model.render(**parameters) if parameters else model.sql
    if not model.keeps_insertion_order:
        con.execute("set preserve_insertion_order = false")
    try:
        beside = parquet_file(con, name) if model.materialize == "parquet" else None
        if beside is not None:
            beside.unlink(missing_ok=True)  # a new file: the old one may be linked into kept state
            con.execute(f"copy ({sql}) to {literal(str(beside))} (format parquet)")
            view_parquet(con, name)
        else:
            con.execute(f"create or replace {'view' if model.materialize == 'view' else 'table'} {name} as {sql}")
    except duckdb.OutOfMemoryException as error:  # say where, and what to change
        limit = con.execute("select current_setting('memory_limit')").fetchone()[0]
        raise duckdb.OutOfMemoryException(
            f"model {name} needs more than DuckDB's memory_limit ({limit}; BILLING_DUCKDB_MEMORY_LIMIT sets it): "
            + one_line(error)) from error
    finally:
        if not model.keeps_insertion_order:
            con.execute("reset preserve_insertion_order")


def parquet_file(con: duckdb.DuckDBPyConnection, name: str) -> Path | None:
    """Where a `materialize: parquet` model's rows go: `<database>.<name>.parquet` beside the
    database file (a run's work folder, removed with it; the preview's and the partitions'
    files beside it are apart from the run's own); None in memory, where it is a table."""
    path = con.execute("select path from duckdb_databases() where database_name = current_database()").fetchone()[0]
    return parquet_path(Path(path), name) if path else None


def parquet_path(database: Path, name: str) -> Path:
    """`<database>.<name>.parquet` beside a database file (see `parquet_file`)."""
    return database.with_name(f"{database.stem}.{name}.parquet")


def view_parquet(con: duckdb.DuckDBPyConnection, name: str, where: str | None = None) -> None:
    """The view `name` over the rows of its `materialize: parquet` file (see `parquet_file`),
    those that meet `where` when it is given."""
    rows = f" where {where}" if where else ""
    con.execute(f"create or replace view {name} as select * from read_parquet("
                f"{literal(scan_path(parquet_file(con, name)))}, hive_partitioning = false){rows}")


def emptied(con: duckdb.DuckDBPyConnection, name: str) -> None:
    """Leave a built model with its columns and no rows (a table, or the view of a
    `materialize: parquet` model, which then reads none of its file's rows)."""
    if graph.models()[name].materialize == "parquet" and parquet_file(con, name) is not None:
        view_parquet(con, name, where="false")
    else:
        con.execute(f"create or replace table {name} as select * from {name} where false")


def build_ledger(con: duckdb.DuckDBPyConnection, proposed: str) -> None:
    """The ledger entries to post from a table of proposed entries (see marts/ledger.sql)."""
    build_model(con, "ledger", proposed=proposed)


# What to do once a model is built, by model name (see `build_stage`).
AfterHooks = dict[str, Callable[[], None]]


def build_stage(con: duckdb.DuckDBPyConnection, stage: str, after: AfterHooks | None = None,
                skip: set[str] | frozenset[str] = frozenset()) -> None:
    """Build a stage's models in order. `after` maps a model to what to do once it is built;
    `skip` names models already in the database."""
    for name in graph.stage(stage):
        if name in skip:
            continue
        build_model(con, name)
        if after and name in after:
            after[name]()


def build_staging(con: duckdb.DuckDBPyConnection, after: AfterHooks | None = None,
                  skip: set[str] | frozenset[str] = frozenset()) -> None:
    """Seeds, then every extract table typed (stg_), deduplicated and validated (int_): the
    models that need neither the run's parameters nor what the warehouse holds (see
    `build_stage` for `after` and `skip`)."""
    build_stage(con, "ingest", after, skip)


# An extract table's rows that share a key hash are listed before it is deduplicated, up to
# this many (`repeated_key_hashes_listed`); more (a file delivered twice over) are left to the
# deduplication to find, and up to PICKED_REPEATED_ROWS of them pick out their lines as the
# table is read.
LISTED_REPEATED_ROWS = 2_000_000
PICKED_REPEATED_ROWS = 20_000


@contextmanager
def repeated_key_hashes_listed(con: duckdb.DuckDBPyConnection, table: str) -> Iterator[None]:
    """List the key hashes that more than one staged row of `table` shares, and those rows'
    line numbers, for the deduplication models built meanwhile
    (intermediate/int_rows_deduplicated.sql), which then need not find them in a second pass
    over every row's key. No repeated key at all is an empty list, not none.

    A few listed lines (as a rule: a handful of late fixes) are a constant to DuckDB, which
    then picks out the rows at those lines (of any file: the hashes then tell the suspects)
    where the extract is read, so only they are typed and checked again: 10M events otherwise
    type, check and hash every row's key twice. Picking by lines instead of by hashes took
    the verdicts from 5.1 s to 4.4 s at 10M events, and this listing from 0.8 s to 1.1 s. A
    file that repeats another's rows lists too many lines to pick them out, and its repeated
    hashes only feed the suspects' join. The lists are read when a model that reads the
    deduplication is built, so they are dropped when the block ends; without them the
    deduplication finds the hashes itself."""
    listed, picked = f"{table}_repeated_key_hashes", f"{table}_picked_lines"
    rows = f"{table}_repeated_key_rows"
    con.execute(f"create or replace temp table {rows} as select * from repeated_key_rows_of('stg_{table}') "
                f"limit {LISTED_REPEATED_ROWS + 1}")
    con.execute(f"set variable {listed} = (select case when count(*) <= {LISTED_REPEATED_ROWS} "
                f"then coalesce(list(_key_hash) filter (where nth_row = 2), []) end from {rows})")
    con.execute(f"set variable {picked} = (select case when count(*) <= {min(PICKED_REPEATED_ROWS, LISTED_REPEATED_ROWS)} "
                f"then coalesce(list(distinct _source_line), []) end from {rows})")  # all listed, and few
    con.execute(f"drop table {rows}")
    try:
        yield
    finally:
        con.execute(f"reset variable {listed}")
        con.execute(f"reset variable {picked}")


def set_run_params(con: duckdb.DuckDBPyConnection, params: RunParams) -> None:
    con.execute(
        "create or replace table run_params as select $run_id::varchar as run_id, "
        "$command::varchar as command, $period::varchar as period, $range_start::date as range_start, "
        "$range_end::date as range_end, $status_date::date as status_date, $as_of::date as as_of, "
        "$usage_until::date as usage_until",
        {
            "run_id": params.run_id,
            "command": params.command,
            "period": params.period,
            "range_start": params.range_start,
            "range_end": params.range_end,
            "status_date": params.status_date,
            "as_of": params.as_of,
            "usage_until": params.usage_until or params.range_end,
        },
    )


def build_billing(con: duckdb.DuckDBPyConnection, after: AfterHooks | None = None) -> None:
    """Pricing, cycles, usage and the output marts (needs staging and prior_* tables; see
    `build_stage` for `after`)."""
    build_stage(con, "billing", after)
