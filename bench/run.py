"""Benchmark: the period run against the DuckDB floor (see README "Benchmark").

    python bench/run.py [--events 10000000] [--clients 100000] [--memory-limit 2GB] [--quick]

Generates a synthetic month (September 2026 usage, zipf-skewed over the clients, every
item, lead sales and prepaid clients from the demo generator) as typed Parquet, then times
in one process: (1) the floor, a bare DuckDB group by client, item over the same files;
(2) the full period run of 2026-10 by stage (ingest, build, validate, publish); (3) an
unchanged re-run of the period (recognised, recorded only); (4) the nightly runs of
2026-10-14 without and 2026-10-15 with the invoice previews; (5) unless --quick, a re-run of the period after that night, which recomputes
everything because the night changed the warehouse. Prints one table and appends it to
bench/results.md with the machine description and the commit.
"""

import argparse
import os
import platform
import shutil
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

from transforms import pipeline  # noqa: E402
from transforms.sample_data import write_sample  # noqa: E402


class _RssSampler(threading.Thread):
    """Samples this process's resident set every 20 ms; `peak` is the highest since reset()."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.peak = 0

    def reset(self) -> None:
        self.peak = self._rss()

    @staticmethod
    def _rss() -> int:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")

    def run(self) -> None:
        while True:
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
        _timed("period run: ingest", args.events, lambda: pipeline.ingest(extracts, work_db), rows)
        _timed("period run: build", args.events, lambda: pipeline.build(work_db, warehouse, params), rows)
        _timed("period run: validate", args.events, lambda: pipeline.check(work_db, params), rows)
        _timed("period run: publish", args.events,
               lambda: pipeline.publish(work_db, warehouse, params, started, started), rows)
    total = sum(r[1] for r in rows[1:5])
    rows.append(("period run: total", total, args.events / total, max(r[3] for r in rows[1:5])))
    def rerun(hour):
        return lambda: pipeline.run_period(extracts, warehouse, "2026-10", date(2026, 10, 31),
                                           datetime(2026, 11, 1, hour))

    _timed("unchanged re-run of 2026-10 (nothing changed: recorded only)", args.events, rerun(3), rows)
    _timed("nightly run 2026-10-14, --no-preview", args.events,
           lambda: pipeline.run_night(extracts, warehouse, date(2026, 10, 14), datetime(2026, 10, 15, 2),
                                      preview=False), rows)
    _timed("nightly run 2026-10-15 (with every client's preview)", args.events,
           lambda: pipeline.run_night(extracts, warehouse, date(2026, 10, 15), datetime(2026, 10, 16, 2)), rows)
    if not args.quick:  # the night added account status rows, so this re-run recomputes the period in full
        _timed("re-run of 2026-10 after the night (full recompute, no file changes)", args.events, rerun(4), rows)
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
    lines += ["", f"Prefect start-up (empty flow, ephemeral API, separate process): {startup:.1f} s."]
    text = "\n".join(lines) + "\n"
    print(text)
    with (ROOT / "bench" / "results.md").open("a") as out:
        out.write("\n" + text)


if __name__ == "__main__":
    main()
