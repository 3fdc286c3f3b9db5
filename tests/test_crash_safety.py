"""kill -9 a period run at several points: the warehouse is never half-written, and the
next run ends exactly where an uninterrupted one does."""

import os
import signal
import subprocess
import sys
import time
from datetime import date, datetime
from pathlib import Path

from helpers import query

from transforms import warehouse
from transforms.pipeline import run_period
from transforms.sample_data import write_sample

ROOT = Path(__file__).resolve().parent.parent
RUN = (
    "import sys; from datetime import date, datetime; from pathlib import Path; "
    "from transforms.pipeline import run_period; "
    "run_period(Path(sys.argv[1]), Path(sys.argv[2]), '2026-10', date(2026, 10, 31), datetime(2026, 11, 1, 3), validate=False)"
)


def _line_files(wh: Path) -> dict[str, bytes]:
    return {str(p.relative_to(wh)): p.read_bytes() for p in sorted((wh / "invoice_lines").rglob("*.parquet"))}


def _invoices(wh: Path) -> list[tuple]:
    return query(wh, "select invoice_id, revision, total from invoices order by all")


def _start(ex: Path, wh: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", RUN, str(ex), str(wh)], cwd=ROOT)


def test_kill_9_at_several_points_then_rerun_matches_an_uninterrupted_run(tmp_path):
    ex = write_sample(tmp_path / "ex", n_clients=40, n_events=40_000)
    reference = tmp_path / "reference"
    run_period(ex, reference, "2026-09", date(2026, 9, 30), datetime(2026, 10, 1, 3), validate=False)
    began = time.monotonic()
    assert _start(ex, reference).wait(timeout=300) == 0
    duration = time.monotonic() - began

    for n, fraction in enumerate((0.1, 0.3, 0.5, 0.65, 0.8, 0.9, 0.97)):
        wh = tmp_path / f"wh{n}"
        run_period(ex, wh, "2026-09", date(2026, 9, 30), datetime(2026, 10, 1, 3), validate=False)
        before = _line_files(wh), _invoices(wh)
        process = _start(ex, wh)
        time.sleep(duration * fraction)
        os.kill(process.pid, signal.SIGKILL)
        process.wait()

        warehouse.recover(wh)  # what the next command does first
        # all or nothing: the warehouse is as before the run, or as after it
        now = _line_files(wh), _invoices(wh)
        assert now in (before, (_line_files(reference), _invoices(reference))), fraction
        assert not list(tmp_path.glob(f".wh{n}.staging-*"))

        run_period(ex, wh, "2026-10", date(2026, 10, 31), datetime(2026, 11, 1, 4), validate=False)
        assert _line_files(wh) == _line_files(reference), fraction
        assert _invoices(wh) == _invoices(reference), fraction
