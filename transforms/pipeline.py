"""The period run as plain functions: ingest -> build -> publish.

The Prefect flow (flows/period_run.py) wires the same steps as tasks; tests and the
benchmark call `run_period` directly. Nothing here reads the clock: the caller passes the
run id, the as-of date and the timestamps.
"""

import calendar
import json
import logging
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import duckdb
import pyarrow

from transforms import assets, carried, extracts, models, partitions, preview, unchanged, validation, warehouse
from transforms.messages import one_line
from transforms.sqltext import scan_path

log = logging.getLogger(__name__)


class PeriodError(ValueError):
    """A --period that is not YYYY-MM, or a range that ends after the last date there is."""


def period_bounds(period: str) -> tuple[date, date]:
    try:
        year, month = (int(part) for part in period.split("-"))
        start = date(year, month, 1)
    except ValueError as exc:
        raise PeriodError(f"period must be YYYY-MM, got {period!r}") from exc
    if len(period) != 7:
        raise PeriodError(f"period must be YYYY-MM, got {period!r}")
    days = calendar.monthrange(year, month)[1]
    return start, _day_after(start.toordinal() + days - 1)


def _day_after(ordinal: int) -> date:
    """The end (exclusive) of a range whose last day is `ordinal`."""
    if ordinal >= date.max.toordinal():
        raise PeriodError(f"cannot bill up to {date.max.isoformat()}: a billed range ends on the day after it")
    return date.fromordinal(ordinal + 1)


def period_params(run_id: str, period: str, as_of: date, command: str = "run") -> models.RunParams:
    """A period run bills every bill date of the month (billing-rules.md section 3)."""
    start, end = period_bounds(period)
    return models.RunParams(run_id, command, start, end, as_of)


def night_params(run_id: str, day: date, command: str = "nightly", preview: bool = True) -> models.RunParams:
    """A nightly run bills one day; its adjustments are issued that day; it publishes every
    client's invoice preview as of the day unless told not to (a preview costs about a
    period build: bench/results.md)."""
    return models.RunParams(run_id, command, day, _day_after(day.toordinal()), day, publishes_preview=preview)


@dataclass(frozen=True)
class RunSummary:
    run_id: str
    period: str
    invoices: int
    invoice_lines: int
    rejects: int
    rows_read: int
    changed_files: int


def ingest(
    extracts_dir: Path, work_db: Path, files: list[extracts.ExtractFile] | None = None,
    warehouse_dir: Path | None = None,
) -> list[extracts.ExtractFile]:
    """Read the extract files (listed and hashed here unless given), then type, deduplicate
    and validate each table. Given the warehouse, the events files whose verdicts it keeps
    are not read again, nor, in an unchanged context, the other extract files (their share
    of ingest is kept too: transforms/carried.py); the run's own are kept for the next."""
    files = extracts.list_extract_files(extracts_dir) if files is None else files
    carry = carried.plan(warehouse_dir, files, unchanged.code_digest())
    try:
        _ingest_into(work_db, files, carry)
    except duckdb.Error as error:
        if not (carry.carries or carry.other_extracts):
            raise
        # the kept state is only a shortcut: a kept file that cannot be read costs one full read
        log.warning("kept ingest state unreadable, reading every extract file: %s", one_line(error))
        for path in (work_db, work_db.with_name(work_db.name + ".wal")):
            path.unlink(missing_ok=True)
        _ingest_into(work_db, files, carried.reading_every_file(carry, files))
    return files


def _ingest_into(work_db: Path, files: list[extracts.ExtractFile], carry: carried.Carry) -> None:
    """Ingest into a new work database, started from the kept tables when `carry` keeps them."""
    carry = carried.start_from_kept(carry, work_db)
    con = models.connect(work_db)
    try:
        _read_and_judge(con, files, carry, work_db.parent)
        con.execute("create or replace table input_files (table_name varchar, path varchar, sha256 varchar, "
                    "stamp bigint[])")
        if files:
            con.executemany("insert into input_files values (?, ?, ?, ?)",
                            [(f.table, str(f.path), f.sha256, list(f.stamp)) for f in files])
    finally:
        con.close()


def _read_and_judge(con: duckdb.DuckDBPyConnection, files: list[extracts.ExtractFile], carry: carried.Carry,
                    work: Path) -> None:
    """Ingest's models over the files `carry` reads and the rows it carries (see ingest); the
    other extract tables' share is in the work database already when `carry` keeps it."""
    carried.attach_other_extracts(con, carry)
    rejected_queries = extracts.load_raw_tables(con, [f for f in files if carry.reads_file(f)])
    carried.create_inputs(con, carry)
    models.build_model(con, "stg_usage_events")
    carried.stage_carried(con, carry)
    kept = carried.other_extract_models() if carry.other_extracts else frozenset()
    with models.repeated_key_hashes_listed(con, carried.TABLE):
        models.build_staging(con, after={"int_usage_events_verdicts": lambda: carried.attach_kept(con, carry)},
                             skip=kept)
    rejected_queries[carried.TABLE] = carried.rejected_query(con, carry, rejected_queries[carried.TABLE], files)
    extracts.create_rejected_tables(con, rejected_queries if not kept else
                                    {carried.TABLE: rejected_queries[carried.TABLE]})
    carried.write_parts(con, carry, work)
    carried.write_other_extracts(con, carry, work)


def row_counts(work_db: Path) -> list[tuple]:
    """Per extract table: rows read, used, rejected and duplicates collapsed (after ingest)."""
    con = models.connect(work_db)
    try:
        return con.execute("select table_name, rows_read, rows_used, rows_rejected, duplicates_collapsed "
                           "from int_input_rows_reconciled order by table_name").fetchall()
    finally:
        con.close()


def prepare(work_db: Path, warehouse_dir: Path, params: models.RunParams) -> None:
    """Record the run's parameters and load what the warehouse already holds for the period."""
    con = models.connect(work_db)
    try:
        models.set_run_params(con, params)
        warehouse.load_prior(con, warehouse_dir, params.period)
    finally:
        con.close()


def build(
    work_db: Path, warehouse_dir: Path, params: models.RunParams, partition_count: int = 1,
    after: models.AfterHooks | None = None,
) -> None:
    """Price the period against what the warehouse already holds for it. `after` maps a
    billing model to what to do once it is built (see `models.build_billing`).

    partition_count > 1 builds the per-client models partition by partition, one after the
    other (the Prefect flow runs them in parallel on Dask); the result is the same, and
    `after` is done once the partitions are merged."""
    prepare(work_db, warehouse_dir, params)
    if partition_count > 1:
        built = [partitions.build_partition(work_db, number, partition_count) for number in range(partition_count)]
        partitions.merge_partitions(work_db, built)
        for then in (after or {}).values():
            then()
    else:
        con = models.connect(work_db)
        try:
            models.build_billing(con, after)
        finally:
            con.close()
    build_preview(work_db, params)


def build_preview(work_db: Path, params: models.RunParams) -> None:
    """A nightly run publishes every client's invoice preview as of its night (billing-rules.md
    section 10); other runs publish none (an empty table keeps the columns)."""
    if params.publishes_preview:
        preview.build_preview(work_db, params.status_date)
    else:
        preview.empty_preview(work_db)


def check(work_db: Path, params: models.RunParams, warehouse_dir: Path | None = None) -> validation.ValidationReport:
    """Validate this run's tables with the GX suites; a failing fail suite stops the run.

    The Data Docs are written beside the work database (in the background: `publish` waits
    for them) and published with the run; the suites' pages are copied from the warehouse's
    latest Data Docs when those rendered the same suites."""
    con = models.connect(work_db)
    try:
        report = validation.validate(con, work_db.parent / "data_docs" / params.run_id,
                                     warehouse_dir / "data_docs" if warehouse_dir is not None else None)
        con.execute("create or replace table validation_findings (suite varchar, level varchar, finding varchar)")
        findings = [(f.suite, "fail", f.line()) for f in report.failures]
        findings += [(f.suite, "warn", f.line()) for f in report.warnings]
        if findings:
            con.executemany("insert into validation_findings values (?, ?, ?)", findings)
        con.execute("create or replace table validation_summary as select $summary::varchar as summary",
                    {"summary": report.summary})
    finally:
        con.close()
    if report.failures:
        raise validation.ValidationFailed(report)
    return report


def publish(
    work_db: Path, warehouse_dir: Path, params: models.RunParams, started_at: datetime, finished_at: datetime,
) -> RunSummary:
    """Stage the changed partitions, the run record and the views; then commit them at once.

    Idempotent: called again for a run that already passed its commit point (a retry after a
    failure past it), it finishes that publication and stages nothing anew."""
    if _committed(warehouse_dir, params):
        return _finished(warehouse_dir, params)
    con = models.connect(work_db)
    try:
        pub = warehouse.Publication(warehouse_dir, warehouse.staging_dir(warehouse_dir, params.run_id), params.run_id)
        for table in warehouse.PARTITIONED_TABLES:
            if table in warehouse.NIGHTLY_ONLY and not params.publishes_preview:
                continue  # a period run publishes no preview and leaves the nights' ones alone
            warehouse.stage_partitioned(pub, con, table, params)
        pub.stage_query(
            con, f"rejects/period={params.period}/data.parquet",
            "select * exclude (period) from rejects", {},
        )
        con.execute("create table if not exists validation_summary (summary varchar)")
        con.execute("create table if not exists validation_findings (suite varchar, level varchar, finding varchar)")
        con.execute(f"create or replace table runs as {(assets.SQL_DIR / 'publish' / 'run_record.sql').read_text()}", {
            "started_at": started_at, "finished_at": finished_at,
            "duckdb_version": duckdb.__version__, "pyarrow_version": pyarrow.__version__,
        })
        pub.stage_query(
            con, warehouse.run_record_path(params.period, params.run_id), "select * exclude (period) from runs", {}
        )
        warehouse.stage_schemas(pub, con)
        docs = work_db.parent / "data_docs"
        validation.docs_written(docs)
        if docs.exists():  # the run's Data Docs, already staged in place; nice to have, never essential
            # (their run's folder, moved at once: a run's folder is new, and file by file each
            # of its ~40 pages needed its folders made)
            pub.optional.extend(str(path.relative_to(work_db.parent)) for path in sorted(docs.iterdir()))
        files = [extracts.ExtractFile(table, Path(path), sha256, tuple(stamp)) for table, path, sha256, stamp
                 in con.execute("select table_name, path, sha256, stamp from input_files order by rowid").fetchall()]
        validated = con.execute("select count(*) from validation_summary").fetchone()[0] > 0
        state = con.execute("select any_value(context) from usage_event_state").fetchone()[0]
        parts = [path for (path,) in con.execute("select path from usage_event_parts order by rowid").fetchall()]
    finally:
        con.close()
    pub.commit()
    _remember(warehouse_dir, params, files, validated)
    if state is not None:
        _remember_events(warehouse_dir, work_db.parent, params, files, state, parts, validated)
    return _summary(warehouse_dir, params, changed_files=len(pub.put) + len(pub.delete))


def _committed(warehouse_dir: Path, params: models.RunParams) -> bool:
    """Whether this run already passed its commit point (its journal or its record is there)."""
    pending = warehouse.journal_run_id(warehouse_dir)
    if pending is not None and pending != params.run_id:
        raise warehouse.CommitIncomplete(f"run {pending} is committed but not finished; run the command again")
    return pending == params.run_id or (warehouse_dir / warehouse.run_record_path(params.period, params.run_id)).exists()


def _finished(warehouse_dir: Path, params: models.RunParams) -> RunSummary:
    """Finish this run's committed publication (if unfinished) and report it from its record."""
    changed = 0
    if warehouse.is_publishing(warehouse_dir):
        journal = json.loads((warehouse_dir / warehouse.JOURNAL).read_text())
        changed = len(journal["put"]) + len(journal["delete"])
        warehouse.finish(warehouse_dir)
    return _summary(warehouse_dir, params, changed_files=changed)


def _remember(
    warehouse_dir: Path, params: models.RunParams, files: list[extracts.ExtractFile], validated: bool,
) -> None:
    """Record the files' digests and, for a result that passed the suites (only such a result
    is ever reused), the unchanged-run fingerprint; after the commit, so a failure only costs
    the next run hashing its files or a full recompute, never this run's publication."""
    try:
        unchanged.remember_hashes(warehouse_dir, files)
        if validated:
            unchanged.remember(warehouse_dir, params, unchanged.inputs_key(files, params))
    except OSError as error:
        log.warning("run %s: unchanged-run state not written: %s", params.run_id, error)


def _remember_events(warehouse_dir: Path, work: Path, params: models.RunParams,
                     files: list[extracts.ExtractFile], context: str, parts: list[str], validated: bool) -> None:
    """Keep the run's events verdicts for the next run (after the commit, like `_remember`)."""
    try:
        carried.remember(warehouse_dir, work, params.run_id, files, context, parts, validated)
    except OSError as error:
        log.warning("run %s: usage events state not written: %s", params.run_id, error)


def _summary(warehouse_dir: Path, params: models.RunParams, changed_files: int) -> RunSummary:
    """The run's counts, read back from its published record."""
    con = models.connect()
    try:
        record = scan_path(warehouse_dir / warehouse.run_record_path(params.period, params.run_id))
        counts = con.execute(_RUN_COUNTS, {"record": record}).fetchone()
    finally:
        con.close()
    return RunSummary(params.run_id, params.period, *counts, changed_files=changed_files)


def refresh_status(work_db: Path, warehouse_dir: Path, params: models.RunParams) -> None:
    """Account status again, after the night's charge batch (billing-rules.md section 9: a
    day's status includes the outcomes of that day's batch): the run's own entries are in the
    warehouse by now, so the ledger is reloaded whole and the run's table emptied."""
    con = models.connect(work_db)
    try:
        warehouse.load_prior(con, warehouse_dir, params.period)
        models.emptied(con, "ledger")
        models.build_model(con, "account_status")
        status_id = f"{params.run_id}-status"
        pub = warehouse.Publication(warehouse_dir, warehouse.staging_dir(warehouse_dir, status_id), status_id)
        warehouse.stage_partitioned(pub, con, "account_status", params)
    finally:
        con.close()
    pub.commit()
    shutil.rmtree(pub.staging, ignore_errors=True)


def find_unchanged(
    extracts_dir: Path, warehouse_dir: Path, params: models.RunParams,
) -> tuple[list[extracts.ExtractFile], str | None]:
    """The extract files, and the earlier run whose published result this run would
    reproduce exactly (same files, range, as-of date, code and warehouse), if any."""
    files = extracts.list_extract_files(extracts_dir, unchanged.known_hashes(warehouse_dir))
    return files, unchanged.published_by(warehouse_dir, params, unchanged.inputs_key(files, params))


def publish_unchanged(
    work_db: Path, warehouse_dir: Path, params: models.RunParams, previous_run_id: str,
    started_at: datetime, finished_at: datetime,
) -> RunSummary:
    """Record a run that would change nothing: the earlier run's record (its input files,
    row counts and validation) under this run's id, with no invoice or line written."""
    if _committed(warehouse_dir, params):
        return _finished(warehouse_dir, params)
    con = models.connect(work_db)
    try:
        earlier = warehouse_dir / warehouse.run_record_path(params.period, previous_run_id)
        con.execute(
            "create or replace table runs as select * replace ("
            "$run_id as run_id, $command as command, $as_of::date as as_of, 0::bigint as invoices_written, "
            "0::bigint as invoice_lines_written, 'unchanged since ' || run_id || ': ' || validation as validation, "
            "$started_at::timestamp as started_at, $finished_at::timestamp as finished_at) "
            "from read_parquet($earlier, hive_partitioning = false)",
            {"run_id": params.run_id, "command": params.command, "as_of": params.as_of,
             "started_at": started_at, "finished_at": finished_at, "earlier": scan_path(earlier)},
        )
        pub = warehouse.Publication(warehouse_dir, warehouse.staging_dir(warehouse_dir, params.run_id), params.run_id)
        pub.stage_query(con, warehouse.run_record_path(params.period, params.run_id), "select * from runs", {})
    finally:
        con.close()
    pub.commit()
    return _summary(warehouse_dir, params, changed_files=len(pub.put) + len(pub.delete))


_RUN_COUNTS = (
    "select invoices_written, invoice_lines_written, rejects_written, "
    "coalesce(list_sum(list_transform(row_counts, lambda c: c.rows_read)), 0) "
    "from read_parquet($record, hive_partitioning = false)"
)


def make_run_id(started_at: datetime) -> str:
    return started_at.strftime("run-%Y%m%dT%H%M%S%fZ")


@contextmanager
def run_workspace(warehouse_dir: Path, run_id: str) -> Iterator[Path]:
    """Hold the warehouse for one run and give it a scratch DuckDB file beside it.

    Finishes any interrupted publication first; the scratch folder is removed however the
    run ends, so a failed run leaves the warehouse exactly as it was.
    """
    with warehouse.locked(warehouse_dir):
        warehouse.recover(warehouse_dir)
        work = warehouse.staging_dir(warehouse_dir, run_id)
        work.mkdir(parents=True)
        try:
            yield work / "work.duckdb"
        finally:
            validation.docs_written(work)  # a run that failed before publishing them
            if not warehouse.is_publishing(warehouse_dir):  # else recover() still needs the staged files
                shutil.rmtree(work, ignore_errors=True)


def run_range(
    extracts_dir: Path, warehouse_dir: Path, params: models.RunParams, started_at: datetime,
    finished_at: datetime | None = None, validate: bool = True, partition_count: int = 1,
) -> RunSummary:
    """Bill one range of days end to end; the warehouse changes only if every step succeeds.

    validate=False skips the GX suites (rule tests that bill hundreds of tiny runs)."""
    with run_workspace(warehouse_dir, params.run_id) as work_db:
        files, previous_run_id = find_unchanged(extracts_dir, warehouse_dir, params)
        if previous_run_id:
            return publish_unchanged(work_db, warehouse_dir, params, previous_run_id, started_at,
                                     finished_at or started_at)
        ingest(extracts_dir, work_db, files, warehouse_dir)
        with models.kept_open(work_db, shared=may_keep_open(params, partition_count)):
            build(work_db, warehouse_dir, params, partition_count,
                  validation.load_during_build() if validate else None)
            if validate:
                check(work_db, params, warehouse_dir)
            return publish(work_db, warehouse_dir, params, started_at, finished_at or started_at)


def may_keep_open(params: models.RunParams, partition_count: int) -> bool:
    """Whether the work database may stay open across the stages (`models.kept_open`): no
    other connection attaches it read-only, as a scaled-out build's partitions and a night's
    preview do."""
    return partition_count == 1 and not params.publishes_preview


def run_period(
    extracts_dir: Path, warehouse_dir: Path, period: str, as_of: date, started_at: datetime,
    finished_at: datetime | None = None, command: str = "run", validate: bool = True, partition_count: int = 1,
) -> RunSummary:
    """Bill (or re-bill) one period: what the nightly runs of all its days would do."""
    params = period_params(make_run_id(started_at), period, as_of, command)
    return run_range(extracts_dir, warehouse_dir, params, started_at, finished_at, validate, partition_count)


def run_night(
    extracts_dir: Path, warehouse_dir: Path, day: date, started_at: datetime, finished_at: datetime | None = None,
    validate: bool = True, preview: bool = True,
) -> RunSummary:
    """The nightly work for one day (billing-rules.md section 3), and the day's previews."""
    params = night_params(make_run_id(started_at), day, preview=preview)
    return run_range(extracts_dir, warehouse_dir, params, started_at, finished_at, validate)
