"""The `billing` command end to end, through the Prefect flow (ephemeral, offline API)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import R1, D, bill, client, lines, price, query, usage, write_extracts


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
        (("run", "--extracts", str(ex), "--warehouse", str(wh), "--period", "9999-12"),
         "cannot bill up to 9999-12-31: a billed range ends on the day after it"),
        (("nightly", "--extracts", str(ex), "--warehouse", str(wh), "--date", "9999-12-31"),
         "cannot bill up to 9999-12-31"),
        (("run", "--extracts", str(tmp_path / "nope"), "--warehouse", str(wh), "--period", "2026-10"),
         "--extracts folder not found"),
        (("run", "--extracts", str(ex), "--warehouse", str(wh), "--period", "2026-10", "--as-of", "soon"),
         "--as-of must be a date"),
        (("run", "--extracts", str(ex), "--warehouse", str(wh), "--period", "2026-10", "--bogus"), "--bogus"),
        (("run", "--extracts", str(ex)), "--warehouse"),
        (("run", "--extracts", str(ex), "--warehouse", str(wh), "--period", "2026-10", "--partitions", "0"),
         "--partitions and --workers must be at least 1"),
        (("run", "--extracts", str(ex), "--warehouse", str(wh), "--period", "2026-10", "--workers", "2"),
         "--dask-address and --workers need --partitions 2 or more"),
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
    assert len(list((wh / "documents").rglob("*.html"))) == 2  # a document for every invoice revision
    done = _billing("charges", "submit", "--warehouse", str(wh), "--processor", "manual", home=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "documents 0" in done.stdout
    done = _billing("runs", "--warehouse", str(wh), home=tmp_path)
    assert done.returncode == 0 and "nightly" in done.stdout
    done = _billing("diff", "--warehouse", str(wh), "--period", "2026-10", home=tmp_path)
    assert done.returncode == 0 and "changed no invoice" in done.stdout
    done = _billing("charges", "submit", "--warehouse", str(wh), "--processor", "paypal", home=tmp_path)
    assert done.returncode == 2 and done.stderr.strip() == "billing: --processor must be stripe, ach or manual, got 'paypal'"


def test_explain_shows_the_working_and_query_exports_csv(tmp_path):
    ex = write_extracts(tmp_path / "ex", {
        "resellers": [R1], "clients": [client("C1")],
        "pricing": [price("sms", metered=True, unit_fee="0.10", max_units=3, cycle_fee="2.00")],
        "usage_events": [usage("a", "C1", "sms", "2026-09-03T00:00:00Z", 4)],
    })
    wh = tmp_path / "wh"
    bill(ex, wh, "2026-10")
    ((invoice_id,),) = query(wh, "select invoice_id from invoices")
    from transforms.reports import invoice_explained

    _, rows = invoice_explained(wh, invoice_id)
    usage_line = rows[1]
    assert usage_line[:4] == (1, 2, "sms", "usage")
    assert usage_line[4].startswith("3.000000 x 0.100000 = 0.30 (usage 2026-09-01 to 2026-10-01: Q 4.000000")
    assert "blocked 1.000000" in usage_line[4] and "max_units=account" in usage_line[5]
    assert "rows in force: account 2026-01-01" in usage_line[5]
    done = _billing("query", "--warehouse", str(wh), "select invoice_id, total from invoices", "--format", "csv",
                    home=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"invoice_id,total\n{invoice_id},2.30\n"
    done = _billing("explain", "--warehouse", str(wh), "--invoice", "INV-NOPE", home=tmp_path)
    assert done.returncode == 2 and done.stderr.startswith("billing: no invoice INV-NOPE")


def test_the_command_line_collects_garbage_rarely_and_leaves_its_objects_to_the_exit(monkeypatch, capsys):
    """flows/cli.py main: full collections at most every 60M allocations, and every object
    frozen when the command ends, whether it succeeded or failed, so the exit walks none."""
    import gc

    from flows import cli

    before = gc.get_threshold()
    try:
        for argv, code in ((["billing", "--help"], 0), (["billing", "run", "--period", "2026-13"], 2)):
            gc.unfreeze()
            gc.set_threshold(*before)
            objects = len(gc.get_objects())
            monkeypatch.setattr(sys, "argv", argv)
            try:
                cli.main()
            except SystemExit as done:
                assert done.code == code
            assert gc.get_threshold() == (200_000, 30, 10)
            assert gc.get_freeze_count() >= objects
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)
    assert "billing: " in capsys.readouterr().err  # the failing command's one line


def test_a_command_that_validates_starts_its_helper_first_and_ends_it_when_it_ends(monkeypatch, capsys):
    """flows/cli.py: `run`, `nightly` and `demo` start the GX helper process before anything
    else (transforms/validation_helper.py), and end it with the command, however it ends;
    other commands start none."""
    from flows import cli
    from transforms import validation_helper

    helpers = []

    class Helper:  # what the command does with its helper, without the process
        def __init__(self):
            self.ended = False
            helpers.append(self)

        def stop(self):
            self.ended = True
            validation_helper._running = None

    monkeypatch.setattr(validation_helper, "Helper", Helper)
    monkeypatch.setattr(validation_helper, "_running", None)
    monkeypatch.setenv("PREFECT_LOGGING_LEVEL", "CRITICAL")  # -v changes it
    for argv, started, code in ((["run", "--period", "2026-13", "--extracts", "x", "--warehouse", "y"], 1, 1),
                                (["-v", "nightly", "--date", "someday", "--extracts", "x", "--warehouse", "y"], 1, 2),
                                (["runs", "--warehouse", "/nonexistent/warehouse"], 0, 1), (["--help"], 0, 0)):
        helpers.clear()
        monkeypatch.setattr(sys, "argv", ["billing", *argv])
        with pytest.raises(SystemExit) as done:
            cli.main()
        assert done.value.code == code
        assert len(helpers) == started and all(h.ended for h in helpers)
        assert validation_helper.running() is None
    assert "billing: " in capsys.readouterr().err


def test_a_command_runs_its_flow_without_heartbeats_unless_they_are_asked_for(monkeypatch):
    """flows/cli.py `_in_foreground`: Prefect's heartbeat thread sleeps in one-second steps
    and a flow's end waits for it, so a command's flow runs without heartbeats; a frequency
    set in Prefect's settings (its variable, or a profile) is left as it is."""
    from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, get_current_settings, temporary_settings

    from flows import cli

    monkeypatch.setattr(cli, "_prefect_offline", lambda: None)  # the test session's Prefect settings stay
    assert get_current_settings().flows.heartbeat_frequency == 180  # Prefect 3.9's default
    with cli._in_foreground():
        assert get_current_settings().flows.heartbeat_frequency is None
    assert get_current_settings().flows.heartbeat_frequency == 180
    with temporary_settings(updates={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: 60}), cli._in_foreground():
        assert get_current_settings().flows.heartbeat_frequency == 60
