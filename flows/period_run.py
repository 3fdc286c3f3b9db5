"""Prefect flow for one period run: ingest -> build -> publish (wiring only).

The business rules live in sql/ and transforms/; each task is a thin call. Tasks get
paths, never DuckDB connections. Only I/O-bound tasks retry, and only on OS errors
(a bad extract is not fixed by trying again).
"""

import logging
import os
import time
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

from prefect import flow, get_run_logger, task, unmapped
from prefect.artifacts import create_table_artifact
from prefect.cache_policies import NO_CACHE

from flows.charge_batch import charge_batch
from transforms import partitions, pipeline, reports, validation


@contextmanager
def _stage(name: str):
    """Log what a stage did and how long it took through the Prefect run logger (the run's
    page in the UI; the CLI shows it with -v)."""
    logger, started, notes = get_run_logger(), time.monotonic(), []
    yield notes.append
    logger.info("%s: %.2f s%s", name, time.monotonic() - started, (": " + "; ".join(notes)) if notes else "")


def _is_os_error(task, task_run, state) -> bool:
    try:
        state.result()
    except OSError:
        return True
    except Exception:
        return False
    return False


@task(retries=2, retry_delay_seconds=[1, 5], retry_condition_fn=_is_os_error, cache_policy=NO_CACHE)
def find_unchanged_run(extracts_dir: Path, warehouse_dir: Path, params: pipeline.models.RunParams):
    return pipeline.find_unchanged(extracts_dir, warehouse_dir, params)


@task(retries=2, retry_delay_seconds=[1, 5], retry_condition_fn=_is_os_error, cache_policy=NO_CACHE)
def ingest_extracts(extracts_dir: Path, work_db: Path, files: list, warehouse_dir: Path) -> int:
    with _stage("ingest") as log:
        count = len(pipeline.ingest(extracts_dir, work_db, files, warehouse_dir))
        log(f"{count} extract file(s); " + ", ".join(
            f"{table} {read} read / {used} used / {rejected} rejected / {duplicates} duplicate(s)"
            for table, read, used, rejected, duplicates in pipeline.row_counts(work_db) if read))
    return count


@task(retries=2, retry_delay_seconds=[1, 5], retry_condition_fn=_is_os_error, cache_policy=NO_CACHE)
def publish_unchanged_run(
    work_db: Path, warehouse_dir: Path, params: pipeline.models.RunParams, previous_run_id: str, started_at: datetime,
) -> pipeline.RunSummary:
    return pipeline.publish_unchanged(work_db, warehouse_dir, params, previous_run_id, started_at,
                                      datetime.now(UTC))


@task(cache_policy=NO_CACHE)
def build_models(work_db: Path, warehouse_dir: Path, params: pipeline.models.RunParams) -> None:
    with _stage("build") as log:
        pipeline.build(work_db, warehouse_dir, params, after=validation.load_during_build())
        log(f"bill dates {params.range_start} to {params.range_end}")


@task(cache_policy=NO_CACHE)
def prepare_build(work_db: Path, warehouse_dir: Path, params: pipeline.models.RunParams) -> None:
    pipeline.prepare(work_db, warehouse_dir, params)


@task(cache_policy=NO_CACHE)
def build_partition(work_db: Path, partition: int, partition_count: int, threads: int | None) -> Path:
    return partitions.build_partition(work_db, partition, partition_count, threads)


@task(cache_policy=NO_CACHE)
def merge_partitions(work_db: Path, partition_dbs: list[Path], params: pipeline.models.RunParams) -> None:
    partitions.merge_partitions(work_db, partition_dbs)
    pipeline.build_preview(work_db, params)


@flow(name="billing-partitions")
def build_partitions(work_db: Path, partition_count: int, threads: int | None) -> list[Path]:
    """Build every client partition in parallel on the flow's task runner (Dask)."""
    futures = build_partition.map(work_db, range(partition_count), unmapped(partition_count), unmapped(threads))
    return [future.result() for future in futures]


@dataclass(frozen=True)
class ScaleOut:
    """How a run spreads its billing models: `partition_count` client partitions on a Dask
    cluster at `dask_address`, or on a LocalCluster of `workers` processes bound to 127.0.0.1."""

    partition_count: int = 1
    dask_address: str | None = None
    workers: int | None = None

    def task_runner(self):
        from prefect_dask import DaskTaskRunner

        # Dask logs every worker start and stop at INFO; keep its warnings only (workers inherit the env)
        os.environ.setdefault("DASK_LOGGING__DISTRIBUTED", "warning")
        logging.getLogger("distributed").setLevel(os.environ["DASK_LOGGING__DISTRIBUTED"].upper())
        if self.dask_address:
            return DaskTaskRunner(address=self.dask_address)
        return DaskTaskRunner(cluster_kwargs={
            "n_workers": self.local_workers, "threads_per_worker": 1, "processes": True,
            "host": "127.0.0.1", "dashboard_address": None,
        })

    @property
    def local_workers(self) -> int:
        return self.workers or min(self.partition_count, os.cpu_count() or 1)

    @property
    def duckdb_threads(self) -> int | None:
        """Local workers share this machine's cores; a remote worker uses all of its own."""
        return None if self.dask_address else max(1, (os.cpu_count() or 1) // self.local_workers)


@task(cache_policy=NO_CACHE)
def validate_outputs(work_db: Path, params: pipeline.models.RunParams, warehouse_dir: Path) -> str:
    """GX suites; publishes the result as an artifact whether or not a fail suite failed."""
    try:
        report = pipeline.check(work_db, params, warehouse_dir)
    except pipeline.validation.ValidationFailed as failed:
        _validation_artifact(params, failed.report)
        raise
    _validation_artifact(params, report)
    return report.summary


def _validation_artifact(params, report) -> None:
    findings = [("fail", f) for f in report.failures] + [("warn", f) for f in report.warnings]
    create_table_artifact(
        key=f"validation-{params.period}",
        table=[{"level": level, "suite": f.suite, "expectation": f.expectation, "column": f.column,
                "examples": f.examples} for level, f in findings] or [{"result": report.summary}],
        description=f"Validation of run {params.run_id}: {report.summary}",
    )


@task(retries=2, retry_delay_seconds=[1, 5], retry_condition_fn=_is_os_error, cache_policy=NO_CACHE)
def publish_run(
    work_db: Path, warehouse_dir: Path, params: pipeline.models.RunParams, started_at: datetime,
) -> pipeline.RunSummary:
    with _stage("publish") as log:
        summary = pipeline.publish(work_db, warehouse_dir, params, started_at, datetime.now(UTC))
        log(f"{summary.invoices} invoice revision(s), {summary.invoice_lines} line(s), {summary.rejects} reject(s), "
            f"{summary.changed_files} file(s) changed")
    return summary


@task(cache_policy=NO_CACHE)
def report_summary(summary: pipeline.RunSummary, warehouse_dir: Path) -> None:
    """The run's artifacts. The run is published by now: a failure here is logged, never the run's."""
    try:
        _report_artifacts(summary, warehouse_dir)
    except Exception as error:  # noqa: BLE001 - artifacts are a view of a committed run
        get_run_logger().warning("artifacts of run %s not created: %s", summary.run_id, error)


def _report_artifacts(summary: pipeline.RunSummary, warehouse_dir: Path) -> None:
    for name, rows in reports.period_tables(warehouse_dir, summary.period).items():
        create_table_artifact(key=f"{name.replace('_', '-')}-{summary.period}", table=rows or [{"rows": 0}],
                              description=f"{name.replace('_', ' ')} of {summary.period} after run {summary.run_id}")
    create_table_artifact(
        key=f"period-run-{summary.period}",
        table=[{
            "run_id": summary.run_id, "period": summary.period, "invoices": summary.invoices,
            "invoice_lines": summary.invoice_lines, "rejects": summary.rejects,
            "rows_read": summary.rows_read, "files_changed": summary.changed_files,
        }],
        description="Billing period run",
    )


def _bill(
    extracts_dir: Path, warehouse_dir: Path, params, started_at: datetime, scale: ScaleOut = ScaleOut(),
    charge_day: date | None = None,
) -> pipeline.RunSummary:
    """Bill the range; with charge_day (a night), then run that day's charge batch and
    compute the account status again with its outcomes."""
    with pipeline.run_workspace(warehouse_dir, params.run_id) as work_db:
        files, previous_run_id = find_unchanged_run(extracts_dir, warehouse_dir, params)
        if previous_run_id:  # nothing it reads changed since that run: record the run, bill nothing
            summary = publish_unchanged_run(work_db, warehouse_dir, params, previous_run_id, started_at)
        else:
            ingest_extracts(extracts_dir, work_db, files, warehouse_dir)
            with pipeline.models.kept_open(work_db, shared=pipeline.may_keep_open(params, scale.partition_count)):
                _build(work_db, warehouse_dir, params, scale)
                validate_outputs(work_db, params, warehouse_dir)
                summary = publish_run(work_db, warehouse_dir, params, started_at)
        if charge_day is not None:
            charge_batch(warehouse_dir, as_of=charge_day)
            if not previous_run_id:
                refresh_account_status(work_db, warehouse_dir, params)
    report_summary(summary, warehouse_dir)
    return summary


@task(retries=2, retry_delay_seconds=[1, 5], retry_condition_fn=_is_os_error, cache_policy=NO_CACHE)
def refresh_account_status(work_db: Path, warehouse_dir: Path, params: pipeline.models.RunParams) -> None:
    pipeline.refresh_status(work_db, warehouse_dir, params)


def _build(work_db: Path, warehouse_dir: Path, params, scale: ScaleOut) -> None:
    if scale.partition_count > 1:
        validation.start_loading()  # the partitions build in Dask's workers: GX's import overlaps them here
        prepare_build(work_db, warehouse_dir, params)
        built = build_partitions.with_options(task_runner=scale.task_runner())(
            work_db, scale.partition_count, scale.duckdb_threads)
        merge_partitions(work_db, built, params)
    else:
        build_models(work_db, warehouse_dir, params)


@flow(name="period-run", log_prints=True)
def period_run(
    extracts_dir: Path, warehouse_dir: Path, period: str, as_of: date | None = None, command: str = "run",
    partition_count: int = 1, dask_address: str | None = None, workers: int | None = None,
    started_at: datetime | None = None,
) -> pipeline.RunSummary:
    """Bill (or re-bill) a period: every bill date of the month in one pass; with
    partition_count > 1 the billing models run per client partition on Dask.
    started_at (default: now) names the run; pass it to replay a run exactly."""
    started_at = started_at or datetime.now(UTC)
    params = pipeline.period_params(pipeline.make_run_id(started_at), period, as_of or started_at.date(), command)
    return _bill(extracts_dir, warehouse_dir, params, started_at, ScaleOut(partition_count, dask_address, workers))


@flow(name="nightly-run", log_prints=True)
def nightly_run(
    extracts_dir: Path, warehouse_dir: Path, day: date | None = None, charge: bool = True, preview: bool = True,
) -> pipeline.RunSummary:
    """The nightly work for one day (default: yesterday, UTC, for the 02:00 schedule): its
    bill dates, leads, prepaid and account status, then that night's charge batch."""
    started_at = datetime.now(UTC)
    day = day or date.fromordinal(started_at.date().toordinal() - 1)
    params = pipeline.night_params(pipeline.make_run_id(started_at), day, preview=preview)
    return _bill(extracts_dir, warehouse_dir, params, started_at, charge_day=day if charge else None)


@flow(name="monthly-close", log_prints=True)
def monthly_close(extracts_dir: Path, warehouse_dir: Path, period: str | None = None) -> pipeline.RunSummary:
    """The month-end close (1st of the month): re-bill the month just ended as one period
    run, so late extracts become adjustments (default: the previous month, UTC)."""
    today = datetime.now(UTC).date()
    previous = date.fromordinal(today.replace(day=1).toordinal() - 1)
    return period_run(extracts_dir, warehouse_dir, period or previous.strftime("%Y-%m"), today, "monthly-close")
