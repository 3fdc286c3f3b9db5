"""The `billing` command line (data-contract.md "Command line").

Errors print one line on stderr and exit non-zero; no traceback reaches the user.
"""

import gc
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from datetime import UTC, date
from pathlib import Path
from typing import Annotated

import click
import duckdb
import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from transforms import validation_helper
from transforms.assets import is_checkout
from transforms.messages import one_line

EXITS = (click.exceptions.Exit, typer.Exit)
ABORTS = (click.exceptions.Abort, typer.Abort)

# A source checkout keeps Prefect's state and the demo's data in the repository (see README);
# an installed package uses Prefect's own home and the current folder.
PROJECT_DIR = Path(__file__).resolve().parent.parent if is_checkout() else None

app = typer.Typer(add_completion=False, no_args_is_help=True, help="Batch billing for CRM resellers.")


# The commands that validate a run: their GX suites run in a helper process.
VALIDATING_COMMANDS = ("run", "nightly", "demo")


@app.callback()
def _options(ctx: typer.Context,
             verbose: Annotated[bool, typer.Option("-v", "--verbose", help="Show each stage's counts and seconds.")] = False):
    """Batch billing for CRM resellers."""
    if verbose:  # Prefect's run logger, which the flows write each stage to
        os.environ["PREFECT_LOGGING_LEVEL"] = "INFO"
    if ctx.invoked_subcommand in VALIDATING_COMMANDS:
        # started first: GX's import there (~1.5-2 s) overlaps Prefect's start, the ingest
        # and the build here (transforms/validation_helper.py); `main` ends it with the command
        validation_helper.start()
# Data and paths are printed as they are: no Rich markup or emoji codes in what we print.
console = Console(markup=False, emoji=False)


def _prefect_offline() -> None:
    """Run Prefect's ephemeral API locally, with no telemetry (see README)."""
    if PROJECT_DIR is not None:
        os.environ.setdefault("PREFECT_HOME", str(PROJECT_DIR / ".prefect"))
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("DO_NOT_TRACK", "1")
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "90")
    # Failures reach the user as one line (main); Prefect's own console log stays quiet.
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "CRITICAL")


@contextmanager
def _in_foreground() -> Iterator[None]:
    """Prefect for a flow this command runs and waits for (see `_prefect_offline`), without
    flow run heartbeats unless Prefect's settings ask for them (PREFECT_FLOWS_HEARTBEAT_FREQUENCY,
    its older name, or a Prefect profile).

    Heartbeats let a server mark a run nobody watches as crashed; the command's own exit says
    that here. Prefect's heartbeat thread sleeps in one-second steps and the flow's end joins
    it: ~0.5 s of every command (up to 1 s). `billing serve` and deployments keep them."""
    _prefect_offline()
    from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, get_current_settings, temporary_settings

    if "heartbeat_frequency" in get_current_settings().flows.model_fields_set:  # set, not Prefect's default
        yield
        return
    with temporary_settings(updates={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
        yield


class UsageProblem(Exception):
    """A flag value the command cannot use (exit status 2)."""


class BatchStopped(Exception):
    """A charge batch that stopped part way: what it recorded stays."""


def _parse_date(value: str | None, flag: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise UsageProblem(f"{flag} must be a date YYYY-MM-DD, got {value!r}") from None


ExtractsOpt = Annotated[Path, typer.Option("--extracts", help="Folder with one sub-folder per extract table.")]
WarehouseOpt = Annotated[Path, typer.Option("--warehouse", help="Warehouse folder (created if missing).")]


@app.command()
def run(
    extracts: ExtractsOpt,
    warehouse: WarehouseOpt,
    period: Annotated[str, typer.Option("--period", help="Billing period YYYY-MM.")],
    as_of: Annotated[str | None, typer.Option("--as-of", help="Run date for adjustments (default: today, UTC).")] = None,
    partitions: Annotated[int, typer.Option(
        "--partitions", help="Split the billing models into this many client partitions, run on Dask.")] = 1,
    dask_address: Annotated[str | None, typer.Option(
        "--dask-address", help="Scheduler of an existing Dask cluster (default: a LocalCluster on 127.0.0.1).")] = None,
    workers: Annotated[int | None, typer.Option(
        "--workers", help="LocalCluster worker processes (default: partitions, at most the CPU count).")] = None,
) -> None:
    """Bill a period (or re-bill it: only differences are written, as new revisions)."""
    from transforms.pipeline import period_bounds

    period_bounds(period)  # a bad period fails before Prefect starts
    as_of_date = _parse_date(as_of, "--as-of")
    if not extracts.is_dir():
        raise UsageProblem(f"--extracts folder not found: {extracts}")
    if partitions < 1 or (workers is not None and workers < 1):
        raise UsageProblem("--partitions and --workers must be at least 1")
    if (dask_address or workers) and partitions == 1:
        raise UsageProblem("--dask-address and --workers need --partitions 2 or more")
    with _holding(warehouse), console.status(f"billing {period} (ingest, build, validate, publish)"):
        summary = _run_flow(extracts, warehouse, period, as_of_date, partition_count=partitions,
                            dask_address=dask_address, workers=workers)
    _report(period, summary, warehouse)


def _report(billed: str, summary, warehouse: Path) -> None:
    console.print(
        f"billed {billed}: {summary.invoices} invoice revision(s), {summary.invoice_lines} line(s), "
        f"{summary.rejects} reject(s), {summary.rows_read} input row(s) -> {warehouse} (run {summary.run_id})"
    )


@app.command()
def nightly(
    extracts: ExtractsOpt,
    warehouse: WarehouseOpt,
    day: Annotated[str, typer.Option("--date", help="The day to bill, YYYY-MM-DD.")],
    preview: Annotated[bool, typer.Option(
        "--preview/--no-preview", help="Publish every client's invoice preview as of the day (default: yes).")] = True,
) -> None:
    """The nightly work for one day: clients whose bill date it is, and the day's leads,
    manual items, prepaid drawdown and account status."""
    from transforms.pipeline import night_params

    night = _parse_date(day, "--date")
    night_params("check", night)  # a night that cannot be billed fails before Prefect starts
    if not extracts.is_dir():
        raise UsageProblem(f"--extracts folder not found: {extracts}")
    with _holding(warehouse), console.status(f"nightly run for {night} (billing, then the charge batch)"), \
            _in_foreground():
        from flows.period_run import nightly_run

        summary = nightly_run(extracts.resolve(), warehouse.resolve(), night, preview=preview)
    _report(str(night), summary, warehouse)


def _run_flow(extracts: Path, warehouse: Path, period: str, as_of: date | None, command: str = "run", **scale):
    with _in_foreground():
        from flows.period_run import period_run

        return period_run(extracts.resolve(), warehouse.resolve(), period, as_of, command, **scale)


def _holding(warehouse: Path):
    """The warehouse lock, taken before Prefect starts: a refused command starts nothing."""
    from transforms.warehouse import locked

    return locked(warehouse.resolve())


@app.command()
def demo(
    out: Annotated[Path, typer.Option("--out", help="Where the sample extracts and warehouse go.")] = (PROJECT_DIR or Path(".")) / "data",
    clients: Annotated[int, typer.Option(help="Number of sample clients.")] = 200,
    events: Annotated[int, typer.Option(help="Number of sample usage events.")] = 1_000_000,
) -> None:
    """Generate a realistic sample, bill three months of it end to end, print a summary."""
    from transforms.sample_data import DEMO_PERIODS, write_sample

    extracts, warehouse = out / "extracts", out / "warehouse"
    if extracts.exists():
        import shutil

        shutil.rmtree(extracts)
    with console.status(f"writing sample extracts ({clients} clients, {events:,} usage events)"):
        write_sample(extracts, n_clients=clients, n_events=events)
    with _holding(warehouse):
        for period in DEMO_PERIODS:
            with console.status(f"billing {period}"):
                summary = _run_flow(extracts, warehouse, period, date.fromisoformat(period + "-28"), "demo")
            console.print(f"billed {period}: {summary.invoices} invoice revision(s), run {summary.run_id}")
    _print_summary(warehouse, DEMO_PERIODS[-3:])
    console.print(f"\nextracts:  {extracts.resolve()}\nwarehouse: {warehouse.resolve()}")
    console.print(f"query it:  billing query --warehouse {warehouse.resolve()} \"select * from invoices limit 10\"\n"
                  f"           (or the DuckDB shell, a separate install: duckdb {(warehouse / 'billing.duckdb').resolve()})")


DEMO_SUMMARY = (
    ("Invoices by period", "demo_invoices_by_period"),
    ("Total billed per item", "demo_billed_per_item"),
    ("Account status at the end of the last period", "demo_status_counts"),
    ("Locked clients", "demo_locked_clients"),
    ("Prepaid balances", "demo_prepaid_balances"),
    ("Rejected input rows", "demo_rejects"),
)


def _print_summary(warehouse: Path, periods: tuple[str, ...]) -> None:
    """The demo's summary tables (sql/reports/demo_*.sql)."""
    from transforms.reports import report_rows

    for title, report in DEMO_SUMMARY:
        _print_rows(title, *report_rows(warehouse, report, {"periods": list(periods)}))


def _print_rows(title: str, columns: list[str], rows: list[tuple]) -> None:
    """Data printed as it is: every title, header and cell is plain text, never Rich markup."""
    table = Table(title=Text(title))
    for column in columns:
        table.add_column(Text(column))
    for row in rows:
        table.add_row(*(Text("" if v is None else str(v)) for v in row))
    console.print(table)


charges_app = typer.Typer(no_args_is_help=True, help="Charge batches for the payment processors.")
app.add_typer(charges_app, name="charges")


def _require_warehouse(warehouse: Path) -> None:
    from transforms.warehouse import VIEW_DB

    if not (warehouse / VIEW_DB).exists():
        raise UsageProblem(f"no billing warehouse at {warehouse}")


AsOfOpt = Annotated[str | None, typer.Option("--as-of", help="The batch's day, YYYY-MM-DD (default: today, UTC).")]


def _charge_batch(warehouse: Path, processor: str | None, as_of: str | None, sync_only: bool = False) -> dict:
    if processor not in (None, "stripe", "ach", "manual"):
        raise UsageProblem(f"--processor must be stripe, ach or manual, got {processor!r}")
    day = _parse_date(as_of, "--as-of")
    _require_warehouse(warehouse)
    status = console.status("asking the processors" if sync_only else "submitting charges")
    with _holding(warehouse), status, _in_foreground():
        from flows.charge_batch import charge_batch

        try:
            return charge_batch(warehouse.resolve(), processor, day, sync_only)
        except Exception as error:  # a batch records each outcome as it arrives: say so, never "unchanged"
            raise BatchStopped(
                f"charge batch stopped: {type(error).__name__}: {str(error).strip()}; the outcomes recorded "
                "before it are kept and the next submit reconciles the rest with the processor") from None


@charges_app.command("submit")
def charges_submit(
    warehouse: WarehouseOpt,
    processor: Annotated[str | None, typer.Option("--processor", help="stripe, ach or manual (default: all).")] = None,
    as_of: AsOfOpt = None,
) -> None:
    """The charge batch of a day: ACH return files dropped into <warehouse>/ach/returns/, due
    charges (retrying declines and re-presenting returns on schedule), charges in progress,
    ACH debits past their return window, manual invoice documents."""
    result = _charge_batch(warehouse, processor, as_of)
    console.print("charge batch: " + ", ".join(f"{k} {v}" for k, v in result.items()))


@charges_app.command("sync")
def charges_sync(warehouse: WarehouseOpt, as_of: AsOfOpt = None) -> None:
    """Ask the processors about charges still in progress (pending_confirmation) and apply
    the final outcomes; nothing new is sent."""
    result = _charge_batch(warehouse, None, as_of, sync_only=True)
    console.print("charge sync: " + ", ".join(f"{k} {v}" for k, v in result.items()))


@charges_app.command("returns")
def charges_returns(
    warehouse: WarehouseOpt,
    file: Annotated[Path, typer.Option("--file", help="A NACHA return file from the bank.")],
    as_of: AsOfOpt = None,
) -> None:
    """Import an ACH return file: returned debits are reversed on the ledger and presented
    again (R01, R09) or left returned; the same file twice changes nothing."""
    from datetime import datetime

    from transforms.ach_returns import import_file

    day = _parse_date(as_of, "--as-of") or datetime.now(UTC).date()
    _require_warehouse(warehouse)
    now = datetime.combine(day, datetime.now(UTC).time())
    result = import_file(warehouse.resolve(), file, day, now)
    console.print(f"return file {file} of {result.file_date}: {len(result.applied)} applied, "
                  f"{len(result.duplicates)} already recorded, {len(result.rejected)} rejected")
    if result.rejected:
        _print_rows("Rejected return entries", ["line", "reason"], result.rejected)


@app.command()
def documents(
    warehouse: WarehouseOpt,
    period: Annotated[str, typer.Option("--period", help="Billing period YYYY-MM.")],
    client_id: Annotated[str | None, typer.Option("--client", help="One client's invoices.")] = None,
    output_format: Annotated[str, typer.Option("--format", help="html or pdf.")] = "html",
    as_of: Annotated[str | None, typer.Option("--as-of", help="Only revisions issued by then, YYYY-MM-DD.")] = None,
) -> None:
    """Write the document of every invoice revision of a period (HTML, or PDF through headless
    Chromium) under <warehouse>/documents/; documents already written are kept."""
    from transforms.documents import write_documents
    from transforms.pipeline import period_bounds

    period_bounds(period)
    day = _parse_date(as_of, "--as-of")  # the revisions issued by then (default: all)
    with _holding(warehouse):
        written = write_documents(warehouse.resolve(), period, client_id, output_format, day)
    console.print(f"documents: {len(written)} written under {warehouse / 'documents'}")


@app.command()
def report(
    warehouse: WarehouseOpt,
    period: Annotated[str, typer.Option("--period", help="Billing period YYYY-MM.")],
    as_of: Annotated[str | None, typer.Option(
        "--as-of", help="Day of the account status and aging shown (default: the period's last day).")] = None,
    out: Annotated[Path, typer.Option("--out", help="Folder for the HTML file.")] = Path("."),
) -> None:
    """One self-contained HTML page of a period for finance: headline figures, revenue over
    12 periods, receivables aging, revenue by item and group, rejects."""
    from transforms.period_report import write_report
    from transforms.pipeline import period_bounds

    period_bounds(period)
    console.print(f"report: {write_report(warehouse, period, out, _parse_date(as_of, '--as-of'))}")


@app.command("preview")
def preview_command(
    extracts: ExtractsOpt,
    as_of: Annotated[str, typer.Option("--as-of", help="The day the preview is as of, YYYY-MM-DD.")],
    warehouse: Annotated[Path | None, typer.Option(
        "--warehouse", help="Accepted for symmetry; a preview reads and writes no warehouse.")] = None,
    client_id: Annotated[str | None, typer.Option("--client", help="One client's preview.")] = None,
    output_format: Annotated[str, typer.Option("--format", help="table, csv or parquet.")] = "table",
    out: Annotated[Path | None, typer.Option("--out", help="File for csv/parquet (csv: default stdout).")] = None,
) -> None:
    """Each client's next cycle invoice if no more usage arrived after --as-of (not an invoice)."""
    from transforms.preview import preview

    day = _parse_date(as_of, "--as-of")
    _check_format(output_format, out)
    if not extracts.is_dir():
        raise UsageProblem(f"--extracts folder not found: {extracts}")
    columns, rows = preview(extracts.resolve(), day, client_id)
    _emit(f"Preview as of {day}", columns, rows, output_format, out)


@app.command()
def simulate(
    extracts: ExtractsOpt,
    period: Annotated[str, typer.Option("--period", help="Billing period YYYY-MM.")],
    pricing: Annotated[Path, typer.Option("--pricing", help="Proposed pricing rows: a .csv/.parquet file or folder.")],
    out: Annotated[Path | None, typer.Option("--out", help="Folder for the comparison (CSV and HTML).")] = None,
) -> None:
    """Bill a period fresh twice, as the extracts are and with proposed pricing rows, and
    compare (no warehouse is read or written)."""
    from transforms.pipeline import period_bounds
    from transforms.simulate import simulate as run_simulation
    from transforms.simulate import write_outputs

    period_bounds(period)
    if not extracts.is_dir():
        raise UsageProblem(f"--extracts folder not found: {extracts}")
    with console.status(f"billing {period} twice (baseline and proposed pricing)"):
        comparison = run_simulation(extracts.resolve(), period, pricing)
    for report, title in (("by_reseller_item", "By reseller and item"), ("by_client", "By client")):
        _print_rows(f"{title}: simulated - baseline", *comparison.tables[report])
    if comparison.proposed_rejects[1]:
        _print_rows("Proposed rows rejected", *comparison.proposed_rejects)
    if out is not None:
        console.print(f"comparison: {write_outputs(comparison, out)}")


@app.command()
def serve(extracts: ExtractsOpt, warehouse: WarehouseOpt) -> None:
    """Serve the nightly (02:00 UTC) and monthly-close (1st, 03:00 UTC) schedules of
    prefect.yaml from this process, against the Prefect API in PREFECT_API_URL."""
    _prefect_offline()
    from prefect import serve as prefect_serve

    from flows.deployments import declared

    prefect_serve(*declared(extracts.resolve(), warehouse.resolve()))


@app.command("runs")
def list_runs(warehouse: WarehouseOpt) -> None:
    """List the runs of a warehouse, newest first, with what each changed."""
    from transforms.reports import runs_listed

    _print_rows("Runs", *runs_listed(warehouse))


@app.command()
def explain(
    warehouse: WarehouseOpt,
    invoice: Annotated[str, typer.Option("--invoice", help="Invoice id, e.g. INV-0123456789ABCDEF.")],
) -> None:
    """How each line of an invoice was computed: formula, units, price sources, pricing rows."""
    from transforms.reports import invoice_explained

    columns, rows = invoice_explained(warehouse, invoice)
    if not rows:
        raise UsageProblem(f"no invoice {invoice} in {warehouse}")
    _print_rows(f"Invoice {invoice}", columns, rows)


@app.command()
def query(
    warehouse: WarehouseOpt,
    sql: Annotated[str, typer.Argument(help="SQL over the warehouse views (invoices, invoice_lines, ...).")],
    output_format: Annotated[str, typer.Option("--format", help="table, csv or parquet.")] = "table",
    out: Annotated[Path | None, typer.Option("--out", help="File for csv/parquet (csv: default stdout).")] = None,
) -> None:
    """Run one read-only query against the warehouse: a table on screen, CSV or a Parquet file."""
    from transforms.reports import QueryRefused, read_only, read_only_statement

    _check_format(output_format, out)
    statement = read_only_statement(sql)
    con = read_only(warehouse)
    try:
        try:
            result = con.execute(statement)
            columns = [column[0] for column in result.description]
            rows = result.to_arrow_table() if output_format == "parquet" else result.fetchall()
        except duckdb.Error as error:
            raise QueryRefused(f"query failed: {one_line(error)}") from None
    finally:
        con.close()
    # the export is written here, not by DuckDB, whose file access stays inside the warehouse
    _emit("", columns, rows, output_format, out)


def _check_format(output_format: str, out: Path | None) -> None:
    if output_format not in ("table", "csv", "parquet"):
        raise UsageProblem(f"--format must be table, csv or parquet, got {output_format!r}")
    if output_format == "parquet" and out is None:
        raise UsageProblem("--format parquet needs --out FILE")


def _emit(title: str, columns: list[str], rows, output_format: str, out: Path | None) -> None:
    """Rows as a table on screen, CSV (a file or stdout) or a Parquet file."""
    if output_format == "table":
        _print_rows(title, columns, rows)
    elif output_format == "parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq

        table = rows if isinstance(rows, pa.Table) else pa.Table.from_pylist([dict(zip(columns, r)) for r in rows])
        pq.write_table(table, out)
    else:
        _write_csv(out, columns, rows)


def _write_csv(out: Path | None, columns: list[str], rows: list[tuple]) -> None:
    import csv

    with (out.open("w", newline="") if out is not None else nullcontext(sys.stdout)) as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows(rows)


@app.command()
def diff(
    warehouse: WarehouseOpt,
    period: Annotated[str, typer.Option("--period", help="Billing period YYYY-MM.")],
) -> None:
    """What the latest run of a period changed, per client (adjustment lines)."""
    from transforms.pipeline import period_bounds
    from transforms.reports import rerun_changes

    period_bounds(period)
    columns, rows = rerun_changes(warehouse, period)
    if not rows:
        console.print(f"the latest run of {period} changed no invoice")
        return
    _print_rows(f"Changes made by the latest run of {period}", columns, rows)


def main() -> None:
    """Console entry point: one line on stderr and a non-zero exit for any failure.

    The process is short-lived and holds ~500K Python objects once Prefect, GX and pandas
    are imported, so the cyclic garbage collector is tuned for that, as mypy does: full
    collections (each walking every object, 7-8 in a tiny run: ~0.7 s) at most every ~60
    million allocations instead of every ~70,000. At the end every object is frozen out of
    its reach: the interpreter's own collections at exit walked them all again (~1.3 s).
    Both leave references, finalizers and atexit hooks (Prefect's log and event flush) as
    they are; only cyclic garbage waits longer, or for the exit."""
    gc.set_threshold(200_000, 30, 10)
    try:
        _main()
    finally:
        validation_helper.stop()  # started by a command that validates (`_options`)
        gc.freeze()


def _main() -> None:
    from transforms.ach_returns import ReturnFileRejected
    from transforms.documents import DocumentError
    from transforms.extracts import ExtractError
    from transforms.pipeline import PeriodError
    from transforms.reports import NoWarehouse, QueryRefused
    from transforms.simulate import SimulationError
    from transforms.validation import ValidationFailed
    from transforms.warehouse import CommitIncomplete, UnusableWarehousePath, WarehouseBusy

    try:
        result = app(standalone_mode=False)
        sys.exit(result if isinstance(result, int) else 0)
    except EXITS as done:
        sys.exit(done.exit_code)
    except ABORTS:
        _fail("aborted", 130)
    except UsageProblem as error:
        _fail(str(error), 2)
    except ValidationFailed as error:
        for finding in error.report.failures:  # the readable summary, with example values
            console.print(finding.line())
        _fail(str(error), 1)
    except (ExtractError, PeriodError, WarehouseBusy, NoWarehouse, QueryRefused, CommitIncomplete,
            UnusableWarehousePath, BatchStopped, SimulationError,
            ReturnFileRejected, DocumentError) as error:
        _fail(str(error), 1)
    except (duckdb.Error, OSError) as error:
        _fail(f"run failed, warehouse unchanged: {one_line(error)}", 1)
    except Exception as error:  # the promise is one line, whatever broke
        if hasattr(error, "format_message"):  # a usage error of click or of the click typer vendors
            if not error.format_message():  # help was shown for a bare `billing`
                sys.exit(2)
            _fail(error.format_message(), 2)
        _fail(f"run failed, warehouse unchanged: {type(error).__name__}: {one_line(error)}", 1)


def _fail(message: str, code: int) -> None:
    """One short line on stderr (an error can carry a list of files or a whole row)."""
    print(f"billing: {one_line(message, MAX_ERROR)}", file=sys.stderr)
    sys.exit(code)


MAX_ERROR = 300


if __name__ == "__main__":
    main()
