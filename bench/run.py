"""Benchmark: the period run against the DuckDB floor (see README "Benchmark").

    python bench/run.py [--events 10000000] [--clients 100000] [--memory-limit 2GB] [--quick]

Generates a synthetic month (September 2026 usage, zipf-skewed over the clients, every
item, lead sales and prepaid clients from the demo generator) as typed Parquet, then times
in one process: (1) the floor, a bare DuckDB group by client, item over the same files;
(2) the full period run of 2026-10 by stage (ingest, build, validate, publish); (3) an
unchanged re-run of the period (recognised, recorded only); (4) the nightly runs of
2026-10-14 without and 2026-10-15 with the invoice previews; (5) unless --quick, a re-run of
the period after that night, which recomputes everything because the night changed the
warehouse; (6) the night after one new day's file: the same month delivered as one events file
per day, a night already run, then one more day's file and the next night; (7) a tiny
extract (tens of rows, the size of the worked examples): billing's own work in this process
(the next period's run: the median of three), then `billing run` through the CLI with
Prefect's ephemeral API (in a new Prefect home, whose database it creates, then again in the
same home) and against a running `prefect server` on 127.0.0.1 (the median of three runs);
(8) the ingest stage alone on the same month with its events as one CSV file (text parsed,
physical line numbers). Prints one table and appends it to bench/results.md with the machine
description and the commit.
"""

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, date, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import duckdb  # noqa: E402

from transforms import pipeline, validation  # noqa: E402
from transforms.sample_data import write_sample  # noqa: E402
from transforms.sqltext import literal, scan_path  # noqa: E402


class _RssSampler(threading.Thread):
    """Samples this process's resident set every 20 ms; `peak` is the highest since reset().
    A sample and a reset take turns (a lock): a sample taken before the reset and stored after
    it would carry the stage before's peak into the next stage's."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.peak = 0
        self._turn = threading.Lock()

    def reset(self) -> None:
        with self._turn:
            self.peak = self._rss()

    @staticmethod
    def _rss() -> int:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")

    def run(self) -> None:
        while True:
            with self._turn:
                self.peak = max(self.peak, self._rss())
            time.sleep(0.02)


RSS = _RssSampler()


def _timed(label, rows, fn, table):
    RSS.reset()
    began = time.perf_counter()
    result = fn()
    seconds = time.perf_counter() - began
    table.append((label, seconds, rows / seconds if rows else 0.0, RSS.peak / 2**20))
    return result


def _commit() -> str:
    done = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    return done.stdout.strip() or "unknown"


def _prefect_startup() -> float:
    """Seconds for a fresh process to run an empty flow on Prefect's ephemeral API (not part
    of the run timings above: the benchmark calls the pipeline functions directly)."""
    with tempfile.TemporaryDirectory() as home:
        env = dict(os.environ, PREFECT_HOME=home, PREFECT_SERVER_ANALYTICS_ENABLED="false",
                   DO_NOT_TRACK="1", PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS="90",
                   PREFECT_LOGGING_LEVEL="CRITICAL")
        began = time.perf_counter()
        subprocess.run([sys.executable, "-c", "from prefect import flow\nflow(lambda: None, name='startup')()"],
                       env=env, check=True, capture_output=True)
        return time.perf_counter() - began


def _daily_extracts(extracts: Path, work: Path) -> Path:
    """The same extracts with the events delivered as one Parquet file per UTC day."""
    daily = work / (extracts.name.replace("extracts-typed", "extracts-daily"))
    if (daily / "usage_events").exists():
        return daily
    shutil.rmtree(daily, ignore_errors=True)
    shutil.copytree(extracts, daily, ignore=shutil.ignore_patterns("events.parquet"))
    con = duckdb.connect()
    con.execute("set TimeZone = 'UTC'")
    source = literal(scan_path(extracts / "usage_events" / "events.parquet"))
    # one read of the month, written partitioned by day (a read per day took ~40 s a day at 100M)
    by_day = daily / "usage_events" / "by_day"
    con.execute(f"copy (select *, cast(occurred_at as date) as event_day from read_parquet({source})) "
                f"to {literal(str(by_day))} (format parquet, partition_by (event_day))")
    con.close()
    for folder in sorted(by_day.iterdir()):  # event_day=YYYY-MM-DD/data_N.parquet -> events-YYYY-MM-DD[-N].parquet
        day = folder.name.removeprefix("event_day=")
        parts = sorted(folder.glob("*.parquet"))
        for n, part in enumerate(parts):
            part.rename(daily / "usage_events" / (f"events-{day}.parquet" if len(parts) == 1 else f"events-{day}-{n}.parquet"))
    shutil.rmtree(by_day)
    return daily


def _night_after_new_day_file(extracts: Path, work: Path, rows: list, events: int) -> None:
    """A night run, then one new day's events file (2026-10-13, a copy of 09-13's events a month
    later under new ids), then the next night: what a real nightly with one new file costs."""
    daily = _daily_extracts(extracts, work)
    warehouse = work / "warehouse-daily"
    shutil.rmtree(warehouse, ignore_errors=True)
    new_file = daily / "usage_events" / "events-2026-10-13.parquet"
    new_file.unlink(missing_ok=True)
    pipeline.run_night(daily, warehouse, date(2026, 10, 13), datetime(2026, 10, 14, 2), preview=False)
    con = duckdb.connect()
    con.execute("set TimeZone = 'UTC'")
    con.execute(f"copy (select * replace ('N' || event_id as event_id, occurred_at + interval 30 day as occurred_at) "
                f"from read_parquet({literal(scan_path(daily / 'usage_events' / 'events-2026-09-13.parquet'))})) "
                f"to {literal(str(new_file))} (format parquet)")
    con.close()
    _timed("night 2026-10-14 after one new day file (events as one file per day), --no-preview", events,
           lambda: pipeline.run_night(daily, warehouse, date(2026, 10, 14), datetime(2026, 10, 15, 2),
                                      preview=False), rows)


def _csv_ingest(extracts: Path, work: Path, rows: list, events: int) -> None:
    """The ingest stage on the same extracts with the events written as one CSV file."""
    csv = work / extracts.name.replace("extracts-typed", "extracts-csv")
    if not (csv / "usage_events" / "events.csv").exists():
        shutil.rmtree(csv, ignore_errors=True)
        shutil.copytree(extracts, csv, ignore=shutil.ignore_patterns("events.parquet"))
        con = duckdb.connect()
        con.execute("set TimeZone = 'UTC'")
        con.execute(f"copy (select * replace (strftime(occurred_at, '%Y-%m-%dT%H:%M:%SZ') as occurred_at) "
                    f"from read_parquet({literal(scan_path(extracts / 'usage_events' / 'events.parquet'))})) "
                    f"to {literal(str(csv / 'usage_events' / 'events.csv'))} (format csv, header true)")
        con.close()
    work_db = work / "csv-ingest.duckdb"

    def remove_work_files() -> None:  # the database and the Parquet files of its `materialize: parquet` models
        for path in (work_db, *work.glob(f"{work_db.stem}.*.parquet")):
            path.unlink(missing_ok=True)

    remove_work_files()
    try:
        _timed("ingest only, the events as one CSV file", events, lambda: pipeline.ingest(csv, work_db), rows)
    finally:
        remove_work_files()


def _tiny_extract(work: Path) -> dict:
    """Seconds for a period run of a tiny extract: billing's own work here (ingest to publish,
    the GX suites included, Python and GX already imported), then the CLI in a fresh process
    on Prefect's ephemeral API and against a running server."""
    tiny = work / "extracts-tiny"
    shutil.rmtree(tiny, ignore_errors=True)
    write_sample(tiny, n_clients=6, n_events=60, usage_months=("2026-09-01", "2026-10-01"))
    con = duckdb.connect()
    rows = con.execute("select count(*) from read_csv($p, union_by_name = true)",
                       {"p": [str(f) for f in tiny.glob("*/*.csv")]}).fetchone()[0]
    rows += con.execute("select count(*) from read_parquet($p)", {"p": str(tiny / "usage_events" / "*.parquet")}
                        ).fetchone()[0]
    con.close()
    out = {"rows": f"{rows} input rows"}
    warehouse = work / "warehouse-tiny"
    for attempt in (1, 2):  # the second, warm, is the figure
        shutil.rmtree(warehouse, ignore_errors=True)
        began = time.perf_counter()
        pipeline.run_period(tiny, warehouse, "2026-10", date(2026, 10, 31), datetime(2026, 11, 1, attempt))
        out["billing's own work (in process, warm)"] = time.perf_counter() - began
    # the usual case: a warehouse that has billed before (an earlier run's Data Docs hold the
    # suites' pages, which a run then copies instead of rendering them); one run of it varies
    # by ~0.2 s on a 2-core VM, so the figure is the median of three
    took = []
    for _attempt in range(3):
        shutil.rmtree(warehouse, ignore_errors=True)
        pipeline.run_period(tiny, warehouse, "2026-09", date(2026, 9, 30), datetime(2026, 10, 1, 3))
        began = time.perf_counter()
        pipeline.run_period(tiny, warehouse, "2026-10", date(2026, 10, 31), datetime(2026, 11, 1, 3))
        took.append(time.perf_counter() - began)
    out["billing's own work, the next period of a warehouse that billed one (in process, median of 3)"] = (
        statistics.median(took))
    billing = str(Path(sys.executable).parent / "billing")
    command = [billing, "run", "--extracts", str(tiny), "--warehouse", str(warehouse), "--period", "2026-10",
               "--as-of", "2026-10-31"]
    with tempfile.TemporaryDirectory() as home:
        env = dict(os.environ, PREFECT_HOME=home, PREFECT_SERVER_ANALYTICS_ENABLED="false", DO_NOT_TRACK="1",
                   PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS="90")
        env.pop("PREFECT_API_URL", None)
        for label in ("`billing run` CLI, ephemeral API",  # a new Prefect home: its database is created
                      "`billing run` CLI, ephemeral API, a Prefect home used before"):
            shutil.rmtree(warehouse, ignore_errors=True)
            began = time.perf_counter()
            subprocess.run(command, env=env, check=True, capture_output=True)
            out[label] = time.perf_counter() - began
        server = subprocess.Popen([str(Path(sys.executable).parent / "prefect"), "server", "start", "--host",
                                   "127.0.0.1", "--port", "4299"], env=env, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL)
        try:
            env["PREFECT_API_URL"] = "http://127.0.0.1:4299/api"
            _wait_for_server("http://127.0.0.1:4299/api/health")
            took = []
            for _attempt in range(4):  # the first registers the flow; the median of the others is the figure
                shutil.rmtree(warehouse, ignore_errors=True)
                began = time.perf_counter()
                subprocess.run(command, env=env, check=True, capture_output=True)
                took.append(time.perf_counter() - began)
            out["`billing run` CLI, running server (median of 3)"] = statistics.median(took[1:])
        finally:
            server.terminate()
            server.wait(timeout=60)
    return out


def _wait_for_server(url: str) -> None:
    import urllib.request

    deadline = time.monotonic() + 120
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--clients", type=int, default=100_000)
    parser.add_argument("--memory-limit", default=None, help="DuckDB memory_limit, e.g. 2GB")
    parser.add_argument("--work", type=Path, default=Path("/tmp/billing-bench"))
    parser.add_argument("--quick", action="store_true", help="skip the full re-run after the nightly run")
    args = parser.parse_args()
    if args.memory_limit:
        os.environ["BILLING_DUCKDB_MEMORY_LIMIT"] = args.memory_limit

    extracts = args.work / f"extracts-typed-{args.clients}-{args.events}"
    if not extracts.exists():
        began = time.perf_counter()
        write_sample(extracts, n_clients=args.clients, n_events=args.events,
                     usage_months=("2026-09-01", "2026-10-01"))
        print(f"generated {args.events:,} events in {time.perf_counter() - began:.1f} s")
    events = extracts / "usage_events" / "events.parquet"
    warehouse = args.work / "warehouse"
    shutil.rmtree(warehouse, ignore_errors=True)
    rows = []
    RSS.start()

    def floor():
        con = duckdb.connect()
        if args.memory_limit:
            con.execute("set memory_limit = $limit", {"limit": args.memory_limit})
        # materialised inside DuckDB, not fetched into Python (1.4M tuples cost more than the aggregate)
        con.execute("create table floor as select client_id, item_code, sum(quantity::decimal(18, 6)), count(*) "
                    "from read_parquet($p) group by all", {"p": str(events)})

    _timed("floor: group by client, item", args.events, floor, rows)
    params = pipeline.period_params("bench-period", "2026-10", date(2026, 10, 31))
    started = datetime.now(UTC)
    with pipeline.run_workspace(warehouse, params.run_id) as work_db:
        _timed("period run: ingest", args.events, lambda: pipeline.ingest(extracts, work_db, warehouse_dir=warehouse), rows)
        # as pipeline.run_range does: Great Expectations is imported while the run builds
        _timed("period run: build", args.events,
               lambda: pipeline.build(work_db, warehouse, params, after=validation.load_during_build()), rows)
        _timed("period run: validate", args.events, lambda: pipeline.check(work_db, params), rows)
        _timed("period run: publish", args.events,
               lambda: pipeline.publish(work_db, warehouse, params, started, started), rows)
    total = sum(r[1] for r in rows[1:5])
    rows.append(("period run: total", total, args.events / total, max(r[3] for r in rows[1:5])))
    def rerun(hour):
        return lambda: pipeline.run_period(extracts, warehouse, "2026-10", date(2026, 10, 31),
                                           datetime(2026, 11, 1, hour))

    failures = []

    def case(label, fn):
        """A case that fails (e.g. out of DuckDB memory) is reported, and the others still run."""
        try:
            return fn()
        except (duckdb.Error, OSError, subprocess.CalledProcessError) as error:
            failures.append(f"{label}: failed: {str(error).splitlines()[0][:200]}")
            return None

    case("unchanged re-run", lambda: _timed("unchanged re-run of 2026-10 (nothing changed: recorded only)",
                                            args.events, rerun(3), rows))
    case("nightly run 2026-10-14", lambda: _timed(
        "nightly run 2026-10-14, --no-preview", args.events,
        lambda: pipeline.run_night(extracts, warehouse, date(2026, 10, 14), datetime(2026, 10, 15, 2),
                                   preview=False), rows))
    case("nightly run 2026-10-15", lambda: _timed(
        "nightly run 2026-10-15 (with every client's preview)", args.events,
        lambda: pipeline.run_night(extracts, warehouse, date(2026, 10, 15), datetime(2026, 10, 16, 2)), rows))
    if not args.quick:  # the night added account status rows, so this re-run recomputes the period in full
        case("full re-run", lambda: _timed("re-run of 2026-10 after the night (full recompute, no file changes)",
                                           args.events, rerun(4), rows))
    case("night after one new day file", lambda: _night_after_new_day_file(extracts, args.work, rows, args.events))
    case("csv ingest", lambda: _csv_ingest(extracts, args.work, rows, args.events))
    tiny = case("tiny extract", lambda: _tiny_extract(args.work)) or {"rows": "not measured"}
    startup = _prefect_startup()
    floor_seconds = rows[0][1]
    lines = [
        f"### {args.events:,} events, {args.clients:,} clients, memory_limit {args.memory_limit or 'default'} "
        f"({datetime.now(UTC):%Y-%m-%d %H:%M} UTC, commit {_commit()})",
        "",
        f"Machine: {platform.platform()}, {os.cpu_count()} cores, "
        f"{os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30:.0f} GiB, Python "
        f"{platform.python_version()}, DuckDB {duckdb.__version__}",
        "",
        "| stage | wall s | rows/s | peak RSS MiB (stage) | x floor |",
        "|---|---|---|---|---|",
    ]
    for label, seconds, rate, rss in rows:
        lines.append(f"| {label} | {seconds:.2f} | {rate:,.0f} | {rss:,.0f} | {seconds / floor_seconds:.1f} |")
    lines += [f"\nNot measured: {failure}" for failure in failures]
    lines += ["", f"Prefect start-up (empty flow, ephemeral API, separate process): {startup:.1f} s.", "",
              "Tiny extract (" + tiny.pop("rows") + "): "
              + "; ".join(f"{label} {seconds:.2f} s" for label, seconds in tiny.items()) + "."]
    text = "\n".join(lines) + "\n"
    print(text)
    with (ROOT / "bench" / "results.md").open("a") as out:
        out.write("\n" + text)


if __name__ == "__main__":
    main()
