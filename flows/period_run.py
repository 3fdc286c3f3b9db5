"""Prefect flow for one period run: ingest -> build -> publish (wiring only).

The business rules live in sql/ and transforms/; each task is a thin call. Tasks get
paths, never DuckDB connections. Only I/O-bound tasks retry, and only on OS errors
(a bad extract is not fixed by trying again).
"""

from datetime import date, datetime, timezone
from pathlib import Path

from prefect import flow, task
from prefect.artifacts import create_table_artifact
from prefect.cache_policies import NO_CACHE

from flows.charge_batch import charge_batch
from transforms import pipeline, reports


def _is_os_error(task, task_run, state) -> bool:
    try:
        state.result()
    except OSError:
        return True
    except Exception:
        return False
    return False


@task(retries=2, retry_delay_seconds=[1, 5], retry_condition_fn=_is_os_error, cache_policy=NO_CACHE)
def ingest_extracts(extracts_dir: Path, work_db: Path) -> int:
    return len(pipeline.ingest(extracts_dir, work_db))


@task(cache_policy=NO_CACHE)
def build_models(work_db: Path, warehouse_dir: Path, params: pipeline.models.RunParams) -> None:
    pipeline.build(work_db, warehouse_dir, params)


@task(cache_policy=NO_CACHE)
def validate_outputs(work_db: Path, params: pipeline.models.RunParams) -> str:
    """GX suites; publishes the result as an artifact whether or not a fail suite failed."""
    try:
        report = pipeline.check(work_db, params)
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
    return pipeline.publish(work_db, warehouse_dir, params, started_at, datetime.now(timezone.utc))


@task(cache_policy=NO_CACHE)
def report_summary(summary: pipeline.RunSummary, warehouse_dir: Path) -> None:
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


def _bill(extracts_dir: Path, warehouse_dir: Path, params, started_at: datetime) -> pipeline.RunSummary:
    with pipeline.run_workspace(warehouse_dir, params.run_id) as work_db:
        ingest_extracts(extracts_dir, work_db)
        build_models(work_db, warehouse_dir, params)
        validate_outputs(work_db, params)
        summary = publish_run(work_db, warehouse_dir, params, started_at)
    report_summary(summary, warehouse_dir)
    return summary


@flow(name="period-run", log_prints=True)
def period_run(
    extracts_dir: Path, warehouse_dir: Path, period: str, as_of: date | None = None, command: str = "run",
) -> pipeline.RunSummary:
    """Bill (or re-bill) a period: every bill date of the month in one pass."""
    started_at = datetime.now(timezone.utc)
    params = pipeline.period_params(pipeline.make_run_id(started_at), period, as_of or started_at.date(), command)
    return _bill(extracts_dir, warehouse_dir, params, started_at)


@flow(name="nightly-run", log_prints=True)
def nightly_run(
    extracts_dir: Path, warehouse_dir: Path, day: date | None = None, charge: bool = True,
) -> pipeline.RunSummary:
    """The nightly work for one day (default: yesterday, UTC, for the 02:00 schedule): its
    bill dates, leads, prepaid and account status, then that night's charge batch."""
    started_at = datetime.now(timezone.utc)
    day = day or date.fromordinal(started_at.date().toordinal() - 1)
    params = pipeline.night_params(pipeline.make_run_id(started_at), day)
    summary = _bill(extracts_dir, warehouse_dir, params, started_at)
    if charge:
        charge_batch(warehouse_dir)
    return summary


@flow(name="monthly-close", log_prints=True)
def monthly_close(extracts_dir: Path, warehouse_dir: Path, period: str | None = None) -> pipeline.RunSummary:
    """The month-end close (1st of the month): re-bill the month just ended as one period
    run, so late extracts become adjustments (default: the previous month, UTC)."""
    today = datetime.now(timezone.utc).date()
    previous = date.fromordinal(today.replace(day=1).toordinal() - 1)
    return period_run(extracts_dir, warehouse_dir, period or previous.strftime("%Y-%m"), today, "monthly-close")
