"""The warehouse: Parquet partitions plus `billing.duckdb` with a view per table.

Layout (hive-style): `<table>/reseller_id=<id>/period=<YYYY-MM>/data.parquet` for invoices,
invoice_lines and usage_summary; `rejects/period=<P>/data.parquet` (the latest run's rejects
of that period: a rejected row may have no usable reseller_id) and
`runs/period=<P>/<run_id>.parquet` (one file per run, never rewritten).

Publishing is atomic: every new file is written to a staging folder beside the warehouse;
then a journal listing the moves is written into the warehouse (the commit point) and the
moves are made. A crash before the journal leaves the warehouse untouched; a crash after it
is finished by `recover()` at the start of the next command. Files whose bytes would not
change are not touched at all.
"""

import fcntl
import glob
import hashlib
import json
import logging
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import duckdb

from transforms import assets, catalogue
from transforms.messages import one_line
from transforms.sqltext import literal, literal_list, scan_path

log = logging.getLogger(__name__)

JOURNAL = "_publishing.json"
VIEW_DB = "billing.duckdb"
SCHEMAS = "_schemas"
STATE_DIR = "_run_state"  # what runs keep for later runs; losing any of it only costs work
VIEWS_DIGEST = f"{STATE_DIR}/views.sha256"  # what billing.duckdb was built from (see refresh_views)

SQL_DIR = assets.SQL_DIR

PARTITIONED_TABLES = ("invoices", "invoice_lines", "usage_summary", "ledger", "account_status", "charges",
                      "invoice_preview")
NIGHTLY_ONLY = {"invoice_preview"}  # published by nightly runs only
DERIVED_VIEWS = ("invoices_current", "invoice_lines_current", "ar_aging", "revenue_by_period",
                 "invoice_preview_current")
TABLES = PARTITIONED_TABLES + ("rejects", "runs", "charge_attempts")

# What a re-run needs of earlier revisions (billing-rules.md section 8).
PRIOR_COLUMNS = {
    "invoices": {
        "invoice_id": "varchar", "revision": "bigint", "reseller_id": "varchar",
        "client_id": "varchar", "kind": "varchar", "invoice_date": "date", "currency": "varchar",
        "due_date": "date",
    },
    "invoice_lines": {
        "invoice_id": "varchar", "revision": "bigint", "line_no": "bigint", "item_code": "varchar",
        "line_type": "varchar", "line_key": "varchar", "quantity": "decimal(18, 6)", "unit_price": "decimal(18, 6)",
        "amount": "decimal(18, 2)", "description": "varchar", "price_source": "varchar",
    },
    # every charge and every attempt: what a run already charged, `charges submit`, lock-out on a decline
    "all_charges": {
        "charge_id": "varchar", "idempotency_key": "varchar", "reseller_id": "varchar", "client_id": "varchar",
        "invoice_id": "varchar", "revision": "bigint", "processor": "varchar", "processor_customer_ref": "varchar",
        "kind": "varchar", "status": "varchar", "currency": "varchar", "period": "varchar", "attempts": "bigint",
        "processor_reference": "varchar", "amount": "decimal(18, 2)", "batch_date": "date",
        "status_reason": "varchar",
    },
    "charge_attempts": {
        "charge_id": "varchar", "event_no": "bigint", "attempt_no": "bigint", "outcome": "varchar",
        "processor_reference": "varchar", "message": "varchar", "attempted_at": "timestamp",
    },
    # every period's invoices, for checks against the previous period
    "all_invoices": {"reseller_id": "varchar", "client_id": "varchar", "period": "varchar", "total": "decimal(18, 2)"},
    # the whole ledger (every period): entries are appended, never rewritten
    "ledger": {
        "entry_id": "varchar", "reseller_id": "varchar", "client_id": "varchar", "entry_type": "varchar",
        "amount": "decimal(18, 2)", "prepaid_amount": "decimal(18, 2)", "balance_after": "decimal(18, 2)",
        "prepaid_balance_after": "decimal(18, 2)", "entry_at": "timestamp", "due_date": "date",
    },
}
WHOLE_HISTORY = {"ledger", "all_invoices", "all_charges", "charge_attempts"}
SOURCE_TABLE = {"all_invoices": "invoices", "all_charges": "charges"}


class WarehouseBusy(Exception):
    """Another billing command holds the warehouse."""


class UnusableWarehousePath(ValueError):
    """A warehouse folder DuckDB cannot keep a database in."""


def _sibling(warehouse: Path, suffix: str) -> Path:
    return warehouse.parent / f".{warehouse.name}.{suffix}"


_held: dict[Path, int] = {}  # warehouses this process holds, with how many nested holders


@contextmanager
def locked(warehouse: Path) -> Iterator[None]:
    """One writer at a time; a second command fails at once with a clear message.

    Re-entrant within a process: the CLI takes the lock before it starts Prefect (so a refused
    run says one line and starts nothing), and the flow it runs takes it again."""
    key = warehouse.resolve()
    if "?" in str(key):
        raise UnusableWarehousePath(
            f"the warehouse path may not contain '?' ({warehouse}): DuckDB reads it as the start of "
            "URL options and cannot keep a database below it")
    if key.exists() and not key.is_dir():  # refused before its lock file is put beside it
        raise UnusableWarehousePath(f"the warehouse path is a file, not a folder: {warehouse}")
    if key in _held:
        _held[key] += 1
        try:
            yield
        finally:
            _held[key] -= 1
        return
    warehouse.parent.mkdir(parents=True, exist_ok=True)
    lock_path = _sibling(warehouse, "lock")
    with lock_path.open("w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise WarehouseBusy(f"another billing run is using {warehouse}; try again when it ends") from exc
        _held[key] = 1
        try:
            yield
        finally:
            del _held[key]
            fcntl.flock(handle, fcntl.LOCK_UN)


def staging_dir(warehouse: Path, run_id: str) -> Path:
    return _sibling(warehouse, f"staging-{run_id}")


def is_publishing(warehouse: Path) -> bool:
    """True between a publication's commit point and its last step."""
    return (warehouse / JOURNAL).exists()


class CommitIncomplete(OSError):
    """A publication passed its commit point but a later step failed. The journal stays, so
    the publication is finished, never started again: by a retry of the same run or by the
    next command on the warehouse. An OSError, so an I/O retry finishes it."""


def journal_run_id(warehouse: Path) -> str | None:
    """The run whose publication is committed but not finished, if any."""
    journal_path = warehouse / JOURNAL
    return json.loads(journal_path.read_text()).get("run_id") if journal_path.exists() else None


def recover(warehouse: Path) -> None:
    """Finish a publication that was interrupted after its commit point, then drop the
    scratch folders of runs that never reached theirs."""
    if is_publishing(warehouse):
        finish(warehouse)
    if _held.get(warehouse.resolve(), 0) > 1:
        return  # a command nested in another of this process (the nightly's charge batch): its scratch is live
    for stale in warehouse.parent.glob(f".{glob.escape(warehouse.name)}.staging-*"):
        shutil.rmtree(stale, ignore_errors=True)


def finish(warehouse: Path) -> None:
    """Roll the committed publication forward: every step is idempotent (a file already moved
    is not moved again), so finishing twice, or after a crash half way, ends the same."""
    journal = json.loads((warehouse / JOURNAL).read_text())
    try:
        for step in _steps(warehouse, journal):
            _run_step(step)
    except OSError as error:
        raise CommitIncomplete(
            f"run {journal.get('run_id', '?')} is committed but not finished ({_short(error)}); "
            "the next billing command on this warehouse finishes it"
        ) from None
    _best_effort(warehouse, journal)


def _steps(warehouse: Path, journal: dict) -> list:
    """The essential steps after the commit point, in order; the journal goes last."""
    staging = Path(journal["staging"])
    steps = [partial(_move, staging / relative, warehouse / relative) for relative in journal["put"]]
    steps += [partial(Path.unlink, warehouse / relative, missing_ok=True) for relative in journal["delete"]]
    steps.append(partial(refresh_views, warehouse))
    steps.append(partial(Path.unlink, warehouse / JOURNAL, missing_ok=True))
    return steps


def _run_step(step) -> None:
    step()


def _move(source: Path, target: Path) -> None:
    try:  # one system call for a file whose folder is there (most are)
        os.replace(source, target)
    except FileNotFoundError:
        if source.exists():  # else an earlier attempt moved it already
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(source, target)


def _best_effort(warehouse: Path, journal: dict) -> None:
    """Files and folders nobody's money depends on (the run's Data Docs): moved if they can be; a failure
    is logged and never fails the publication it belongs to."""
    staging = Path(journal["staging"])
    for relative in journal.get("optional", []):
        try:
            _move(staging / relative, warehouse / relative)
        except OSError as error:
            log.warning("run %s: %s not published: %s", journal.get("run_id"), relative, _short(error))
            return


def _short(error: BaseException) -> str:
    """An error as one short line (an OSError can carry a long list of files)."""
    return one_line(error, 200, empty=type(error).__name__)


BY_PERIOD_ONLY = ("rejects", "runs", "charge_attempts")  # `period=<P>/` folders only


def read_partitions(files: str, table: str) -> str:
    """A query over `files` (a SQL list or glob of one table's partition files) with the
    partition columns taken from each file's own last folders. Never DuckDB's hive
    partitioning: it reads every `key=value` folder of the whole path, so a warehouse kept
    under `/srv/period=2026/` or `/data/client_id=X/` would put those values into the rows."""
    partitions = ", ".join(f"regexp_extract(filename, '{_PARTITION_PATTERNS[name]}', 1) as {name}"
                           for name in partition_columns(table))
    return (f"select * exclude (filename), {partitions} from read_parquet({files}, "
            "hive_partitioning = false, filename = true, union_by_name = true)")


# Each partition column, from the end of a partition file's path.
_PARTITION_PATTERNS = {
    "period": "/period=([^/]*)/[^/]*$",
    "reseller_id": "/reseller_id=([^/]*)/period=[^/]*/[^/]*$",
}


def partition_columns(table: str) -> tuple[str, ...]:
    """The columns a table's partition folders give its rows (see read_partitions)."""
    return ("period",) if table in BY_PERIOD_ONLY else ("period", "reseller_id")


def _partition_files(warehouse: Path, table: str, period: str) -> list[Path]:
    if table in BY_PERIOD_ONLY:  # charge_attempts: one file per attempt event, by period only
        return sorted((warehouse / table).glob(f"period={period}/*.parquet"))
    return sorted((warehouse / table).glob(f"reseller_id=*/period={period}/*.parquet"))


def load_prior(
    con: duckdb.DuckDBPyConnection, warehouse: Path, period: str, tables: tuple[str, ...] | None = None,
) -> None:
    """`prior_<table>`: what is already published: every invoice revision of the period, and
    the whole ledger (or, given `tables`, just those, reloaded).

    Views over the partition files (named one by one: a view holds no bound values), not
    copies: the whole ledger's history is read by two models, and copying it into the work
    database cost more than both reads (10M events: 546K entries, 0.42-0.47 s to copy, 0.08 s
    to read). The files do not change while the run holds the warehouse, up to its commit."""
    for table in tables or PRIOR_COLUMNS:
        columns = PRIOR_COLUMNS[table]
        source = SOURCE_TABLE.get(table, table)
        files = [scan_path(p) for p in _partition_files(warehouse, source, "*" if table in WHOLE_HISTORY else period)]
        if files:
            typed = ", ".join(f"cast({name} as {type_}) as {name}" for name, type_ in columns.items())
            rows = f"select {typed} from ({read_partitions(literal_list(files), source)})"
        else:
            rows = "select " + ", ".join(f"null::{type_} as {name}" for name, type_ in columns.items()) + " where false"
        con.execute(f"create or replace view prior_{table} as {rows}")
    if tables is None:
        _load_prior_row_counts(con, warehouse, period)


def run_record_path(period: str, run_id: str) -> str:
    """Where a run's record lives, relative to the warehouse."""
    return f"runs/period={period}/{run_id}.parquet"


def _load_prior_row_counts(con: duckdb.DuckDBPyConnection, warehouse: Path, period: str) -> None:
    """`prior_row_counts`: rows read per extract table by the last run of the period."""
    con.execute("create or replace table prior_row_counts (table_name varchar, rows_read bigint)")
    files = [scan_path(p) for p in sorted((warehouse / "runs").glob(f"period={period}/*.parquet"))]
    if files:
        con.execute(
            "insert into prior_row_counts select c.table_name, c.rows_read from ("
            "select unnest(arg_max(row_counts, (started_at, run_id))) as c "
            "from read_parquet($files, hive_partitioning = false, union_by_name = true))",
            {"files": files},
        )


COMPARE_BLOCK_BYTES = 1 << 20


def same_bytes(a: Path, b: Path, block: int = COMPARE_BLOCK_BYTES) -> bool:
    """Whether two files hold the same bytes, read a block at a time: an output partition can
    be large, and holding both whole would add twice its size to the run's peak memory."""
    if a.stat().st_size != b.stat().st_size:
        return False
    with a.open("rb") as first, b.open("rb") as second:
        while chunk := first.read(block):
            if chunk != second.read(block):
                return False
    return True


@dataclass
class Publication:
    """The files one run changes in the warehouse, staged before the commit."""

    warehouse: Path
    staging: Path
    run_id: str = ""
    put: list[str] = field(default_factory=list)
    delete: list[str] = field(default_factory=list)
    optional: list[str] = field(default_factory=list)  # files or new folders moved if they can be (Data Docs)
    _folders: set[Path] = field(default_factory=set)  # staging folders made so far

    def stage_query(
        self, con: duckdb.DuckDBPyConnection, relative: str, query: str, params: dict, keep_empty: bool = True,
    ) -> bool:
        """Write the query's rows to `relative`, unless the existing file has the same bytes;
        with keep_empty=False, write nothing when it has no rows. Whether it had rows (or
        keep_empty)."""
        # Materialised first: the Parquet encoding then depends on the rows only, not on
        # how the query produced them (e.g. merged with an existing file or not); and an
        # empty result is known without running the query twice (DuckDB's `create table
        # as` answers with its row count).
        rows = con.execute(f"create or replace temp table _staged as {query}", params).fetchone()[0]
        try:
            if not keep_empty and rows == 0:
                return False
            target = self.staging / relative
            if target.parent not in self._folders:
                target.parent.mkdir(parents=True, exist_ok=True)
                self._folders.add(target.parent)
            con.execute(f"copy (select * from _staged) to {literal(str(target))} (format parquet)")
        finally:
            con.execute("drop table _staged")
        existing = self.warehouse / relative
        if existing.exists() and same_bytes(existing, target):
            target.unlink()
        else:
            self.put.append(relative)
        return True

    def commit(self) -> None:
        """Write the journal (the commit point), then finish it (see `finish`)."""
        if not (self.put or self.delete or self.optional):
            return
        self.warehouse.mkdir(parents=True, exist_ok=True)
        journal = {"run_id": self.run_id, "staging": str(self.staging), "put": self.put, "delete": self.delete,
                   "optional": self.optional}
        temp = self.warehouse / (JOURNAL + ".tmp")
        temp.write_text(json.dumps(journal))
        with temp.open("rb") as handle:
            os.fsync(handle.fileno())
        os.replace(temp, self.warehouse / JOURNAL)  # the commit point
        finish(self.warehouse)


# How a run's rows meet a partition's existing rows: None = append (existing rows are kept,
# revisions are never rewritten); otherwise existing rows matching the condition are the
# ones this run recomputes and replaces. Then the sort order of the partition's file.
MERGE_RULES = {
    "invoices": (None, "invoice_id, revision"),
    "invoice_lines": (None, "invoice_id, revision, line_no"),
    "usage_summary": ("bill_date >= $range_start and bill_date < $range_end", "client_id, item_code, cycle_start"),
    "ledger": (None, "client_id, entry_at, entry_id"),
    "charges": (None, "charge_id"),
    "account_status": ("as_of = $status_date", "client_id, as_of"),
    "invoice_preview": ("as_of = $status_date", "client_id, as_of, line_no"),
}


def stage_partitioned(pub: Publication, con: duckdb.DuckDBPyConnection, table: str, params) -> None:
    """Stage every (reseller, period) partition of `table` that this run changes: those its
    rows fall in, and for a replacing table every partition of the run's period."""
    replaced, order = MERGE_RULES[table]
    partitions = set(con.execute(f"select distinct reseller_id, period from {table}").fetchall())
    if replaced:
        partitions |= {
            (p.parent.parent.name.removeprefix("reseller_id="), params.period)
            for p in _partition_files(pub.warehouse, table, params.period)
        }
    for reseller_id, period in sorted(partitions):
        relative = f"{table}/reseller_id={reseller_id}/period={period}/data.parquet"
        existing = pub.warehouse / relative
        rows = (
            f"select * exclude (reseller_id, period) from {table} "
            "where reseller_id = $reseller_id and period = $period"
        )
        bound = {"reseller_id": reseller_id, "period": period}
        if existing.exists():
            kept = f"select * from read_parquet({literal(scan_path(existing))}, hive_partitioning = false)"
            if replaced:
                kept += f" where not ({replaced})"
                bound |= {"range_start": params.range_start, "range_end": params.range_end,
                          "status_date": params.status_date}
                bound = {k: v for k, v in bound.items() if f"${k}" in replaced or k in ("reseller_id", "period")}
            rows = f"{kept} union all by name {rows}"
        query = f"select * from ({rows}) order by {order}"
        if not pub.stage_query(con, relative, query, bound, keep_empty=False) and existing.exists():
            pub.delete.append(relative)


def stage_schemas(pub: Publication, con: duckdb.DuckDBPyConnection) -> None:
    """`_schemas/<table>.parquet`: a zero-row file per table, so its view exists before any data."""
    present = {name for (name,) in con.execute(  # a model written as Parquet is a view over its file
        "select table_name from duckdb_tables() union all select view_name from duckdb_views()").fetchall()}
    for table in TABLES:
        source = table
        if table not in present:  # a table only other commands write (the charge attempt log): as
            # loaded, with the partition columns its files' folders give
            folders = ", ".join(f"null::varchar as {name}" for name in partition_columns(table))
            source = f"(select *, {folders} from prior_{table})"
        pub.stage_query(con, f"{SCHEMAS}/{table}.parquet", f"select * from {source} limit 0", {})


def refresh_views(warehouse: Path) -> None:
    """`billing.duckdb`: a view per table over its Parquet files (absolute paths).

    Derived from the files, so it is brought up to date after each commit (and by recover());
    it is written beside and renamed into place so readers never see half a file. A view
    reads its table's files through a glob, so the file holds the same views until a table
    gets its first file or loses its last, the warehouse moves, or the code, the schemas or
    DuckDB change: `_run_state/views.sha256` says what the file was built from, and a file
    built from the same is kept (rebuilding it costs ~0.1 s, most of it the ~220 comments).
    """
    statements = _view_statements(warehouse)
    target, marker = warehouse / VIEW_DB, warehouse / VIEWS_DIGEST
    digest = hashlib.sha256(f"duckdb {duckdb.__version__}\0".encode())
    for part in (*statements, catalogue.text(), *(path.read_bytes() for path in _schema_files(warehouse))):
        digest.update((part.encode() if isinstance(part, str) else part) + b"\0")
    try:
        if marker.read_text() == _built_from(digest.hexdigest(), target):
            return
    except OSError:  # no file or no marker: built below
        pass
    temp = warehouse / (VIEW_DB + ".tmp")
    temp.unlink(missing_ok=True)
    con = duckdb.connect(str(temp))
    try:
        con.execute("begin")  # one commit for every view and comment, not one each
        for statement in statements:
            con.execute(statement)
        catalogue.set_comments(con)
        con.execute("commit")
    finally:
        con.close()
    marker.unlink(missing_ok=True)  # first: a marker must never describe a file it did not see built
    os.replace(temp, target)
    marker.parent.mkdir(exist_ok=True)
    marker.write_text(_built_from(digest.hexdigest(), target))


def _built_from(digest: str, view_db: Path) -> str:
    """The marker's text: the digest, and the file it describes as it is (size, mtime)."""
    stat = view_db.stat()
    return f"{digest} {stat.st_size} {stat.st_mtime_ns}"


def _view_statements(warehouse: Path) -> list[str]:
    """The `create view` statements of billing.duckdb."""
    statements = []
    for table in TABLES:
        if any((warehouse / table).rglob("*.parquet")):
            rows = read_partitions(literal(scan_path((warehouse / table).resolve(), "/**/*.parquet")), table)
        else:  # the zero-row schema file holds the partition columns itself
            schema = literal(scan_path((warehouse / SCHEMAS / f"{table}.parquet").resolve()))
            rows = f"select * from read_parquet({schema}, hive_partitioning = false)"
        statements.append(f"create view {table} as {rows}")
    for view in DERIVED_VIEWS:
        statements.append(f"create view {view} as {(SQL_DIR / 'views' / f'{view}.sql').read_text()}")
    return statements


def _schema_files(warehouse: Path) -> list[Path]:
    """The zero-row file of each table: the columns the code that last published writes."""
    return sorted((warehouse / SCHEMAS).glob("*.parquet"))
