"""The `billing` command end to end, through the Prefect flow (ephemeral, offline API)."""

import os
import subprocess
import sys
from pathlib import Path

from helpers import D, R1, client, lines, price, query, usage, write_extracts


def _billing(*args: str, home: Path, **env_overrides: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PREFECT_HOME=str(home / "prefect"), PREFECT_SERVER_ANALYTICS_ENABLED="false",
               DO_NOT_TRACK="1", PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS="90", COLUMNS="200",
               **env_overrides)
    return subprocess.run([sys.executable, "-m", "flows.cli", *args], capture_output=True, text=True, env=env,
                          cwd=Path(__file__).resolve().parent.parent, timeout=300)


def test_billing_run_bills_a_period_through_the_flow(tmp_path):
    ex = write_extracts(tmp_path / "ex", {
        "resellers": [R1], "clients": [client("C1")],
        "pricing": [price("emails", cycle_fee="20.00", included_units=10000, metered=False, overage_fee="0.0015")],
        "usage_events": [usage("e1", "C1", "emails", "2026-09-14T08:00:00Z", 12500)],
    })
    wh = tmp_path / "wh"
    done = _billing("run", "--extracts", str(ex), "--warehouse", str(wh), "--period", "2026-10",
                    "--as-of", "2026-10-02", home=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "billed 2026-10: 1 invoice revision(s), 2 line(s), 0 reject(s)" in done.stdout
    assert lines(wh, "C1", "2026-10-01") == [
        ("emails", "cycle_fee", D("1"), D("20.00"), D("20.00")),
        ("emails", "overage", D("2500"), D("0.0015"), D("3.75")),
    ]
    assert query(wh, "select command, period, as_of::varchar, status from runs") == [
        ("run", "2026-10", "2026-10-02", "succeeded")
    ]


def test_command_line_errors_are_one_line_and_leave_no_warehouse(tmp_path):
    ex = write_extracts(tmp_path / "ex", {"resellers": [R1]})
    wh = tmp_path / "wh"
    cases = [
        (("run", "--extracts", str(ex), "--warehouse", str(wh), "--period", "2026-13"), "period must be YYYY-MM"),
        (("run", "--extracts", str(tmp_path / "nope"), "--warehouse", str(wh), "--period", "2026-10"),
         "--extracts folder not found"),
        (("run", "--extracts", str(ex), "--warehouse", str(wh), "--period", "2026-10", "--as-of", "soon"),
         "--as-of must be a date"),
        (("run", "--extracts", str(ex), "--warehouse", str(wh), "--period", "2026-10", "--bogus"), "--bogus"),
        (("run", "--extracts", str(ex)), "--warehouse"),
    ]
    for args, message in cases:
        done = _billing(*args, home=tmp_path)
        assert done.returncode != 0, args
        assert len(done.stderr.strip().splitlines()) == 1, done.stderr
        assert done.stderr.startswith("billing: ") and message in done.stderr, done.stderr
    assert not wh.exists()


def test_billing_nightly_then_charges_submit_runs_and_diff(tmp_path):
    ex = write_extracts(tmp_path / "ex", {
        "resellers": [R1], "clients": [client("C1"), client("C2", processor="stripe", processor_customer_ref="cus_x")],
        "pricing": [price("account", cycle_fee="10.00")],
    })
    wh = tmp_path / "wh"
    env_free = {"STRIPE_API_KEY": ""}  # no key here: the stripe charge stays pending
    done = _billing("nightly", "--extracts", str(ex), "--warehouse", str(wh), "--date", "2026-10-01",
                    home=tmp_path, **env_free)
    assert done.returncode == 0, done.stderr
    assert "billed 2026-10-01: 2 invoice revision(s)" in done.stdout
    assert query(wh, "select client_id, status from charges") == [("C2", "pending")]
    assert len(list((wh / "documents").rglob("*.html"))) == 1  # C1 is a manual client
    done = _billing("charges", "submit", "--warehouse", str(wh), "--processor", "manual", home=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "documents 0" in done.stdout
    done = _billing("runs", "--warehouse", str(wh), home=tmp_path)
    assert done.returncode == 0 and "nightly" in done.stdout
    done = _billing("diff", "--warehouse", str(wh), "--period", "2026-10", home=tmp_path)
    assert done.returncode == 0 and "changed no invoice" in done.stdout
    done = _billing("charges", "submit", "--warehouse", str(wh), "--processor", "paypal", home=tmp_path)
    assert done.returncode == 2 and done.stderr.strip() == "billing: --processor must be stripe, ach or manual, got 'paypal'"
