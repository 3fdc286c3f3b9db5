"""A failure after the commit point never publishes twice (issue "Hardening", defect 1).

Every step after the journal is written (each file move, each delete, the views, removing
the journal) is failed in turn with an OSError. Then either the same run's publish is called
again (what Prefect's I/O retry does) or the next command runs; both must end exactly where
an uninterrupted run ends: no revision, line, charge or ledger row written twice.
"""

import shutil
from datetime import date, datetime
from pathlib import Path

import pytest
from helpers import R1, bill, client, price, query, usage, write_extracts

from transforms import pipeline, warehouse

LATE = datetime(2026, 11, 25, 12, 0, 1)
TABLES = {
    "invoices": "select * from invoices",
    "invoice_lines": "select * from invoice_lines",
    "charges": "select * from charges",
    "ledger": "select * from ledger",
    "usage_summary": "select * from usage_summary",
    "account_status": "select * from account_status",
    "runs": "select run_id, invoices_written, invoice_lines_written from runs",
}


def _extracts(folder: Path, late: bool) -> Path:
    events = [usage("e1", "C1", "emails", "2026-09-14T08:00:00Z", 12500),
              usage("e2", "C2", "emails", "2026-09-15T08:00:00Z", 300)]
    if late:  # late usage: C1 owes 7.50 more (5000 x 0.0015), an adjustment revision and a charge
        events.append(usage("e3", "C1", "emails", "2026-09-20T08:00:00Z", 5000))
    return write_extracts(folder, {
        "resellers": [R1],
        "clients": [client("C1", processor="stripe", processor_customer_ref="cus_C1"),
                    client("C2", processor="ach", processor_customer_ref="011000015-12345")],
        "pricing": [price("emails", cycle_fee="20.00", included_units=10000, metered=False, overage_fee="0.0015")],
        "usage_events": events,
    })


def _rows(wh: Path) -> dict[str, list[tuple]]:
    return {table: sorted(query(wh, sql), key=repr) for table, sql in TABLES.items()}


def _late_params() -> pipeline.models.RunParams:
    return pipeline.period_params(pipeline.make_run_id(LATE), "2026-10", date(2026, 10, 30))


@pytest.fixture(scope="module")
def scenario(tmp_path_factory):
    """The October warehouse before the late usage, and the rows an uninterrupted re-run gives."""
    root = tmp_path_factory.mktemp("publish")
    before, after = _extracts(root / "before", late=False), _extracts(root / "after", late=True)
    base = root / "base"
    bill(before, base, "2026-10")
    reference = root / "reference"
    shutil.copytree(base, reference)
    pipeline.run_range(after, reference, _late_params(), LATE, validate=False)
    rows = _rows(reference)
    assert len([r for r in rows["invoices"] if r[1] == 2]) == 1  # the adjustment revision of C1
    assert len(rows["charges"]) == 3  # C1 and C2 for their October invoices, and C1 for its 7.50 adjustment
    counting = root / "count"
    shutil.copytree(base, counting)
    with pytest.MonkeyPatch.context() as monkeypatch:
        steps = _failing_at(monkeypatch, None)
        pipeline.run_range(after, counting, _late_params(), LATE, validate=False)
    return root, base, after, rows, len(steps)


def _failing_at(monkeypatch, failing: int | None) -> list:
    """Make the `failing`-th post-commit step raise OSError (None: count the steps only)."""
    done, real = [], warehouse._run_step

    def step(action):
        if len(done) == failing:
            done.append("failed")
            raise OSError(30, "Read-only file system")
        done.append(action)
        real(action)

    monkeypatch.setattr(warehouse, "_run_step", step)
    return done


def test_a_retry_after_any_post_commit_failure_finishes_the_same_publication(scenario, monkeypatch, tmp_path):
    root, base, after, reference, total = scenario
    assert total >= 8  # each changed partition file (invoices, lines, ledger, charges, ...), the run record, views, journal
    for failing in range(total):
        wh = tmp_path / f"wh{failing}"
        shutil.copytree(base, wh)
        params = _late_params()
        with pipeline.run_workspace(wh, params.run_id) as work_db:
            pipeline.ingest(after, work_db)
            pipeline.build(work_db, wh, params)
            _failing_at(monkeypatch, failing)
            with pytest.raises(warehouse.CommitIncomplete, match="committed but not finished"):
                pipeline.publish(work_db, wh, params, LATE, LATE)
            monkeypatch.undo()
            retried = pipeline.publish(work_db, wh, params, LATE, LATE)  # Prefect's retry on OSError
        assert not warehouse.is_publishing(wh), failing
        assert retried.invoices == 1 and retried.run_id == params.run_id, failing
        assert _rows(wh) == reference, failing


@pytest.mark.parametrize("where", ["first", "middle", "views", "journal"])
def test_the_next_command_finishes_a_failed_publication_and_bills_nothing_twice(scenario, monkeypatch, tmp_path,
                                                                                  where):
    root, base, after, reference, total = scenario
    failing = {"first": 0, "middle": total // 2, "views": total - 2, "journal": total - 1}[where]
    wh = tmp_path / "wh"
    shutil.copytree(base, wh)
    _failing_at(monkeypatch, failing)
    with pytest.raises(warehouse.CommitIncomplete):
        pipeline.run_range(after, wh, _late_params(), LATE, validate=False)
    monkeypatch.undo()
    assert warehouse.is_publishing(wh)
    # the next command: a nightly run of another day, on the same extracts
    pipeline.run_night(after, wh, date(2026, 10, 30), datetime(2026, 11, 25, 12, 0, 2))
    rows = _rows(wh)
    assert {t: r for t, r in rows.items() if t not in ("runs", "account_status")} == \
        {t: r for t, r in reference.items() if t not in ("runs", "account_status")}
    assert [r[0] for r in rows["runs"]].count(pipeline.make_run_id(LATE)) == 1


def test_data_docs_that_cannot_be_written_never_fail_a_committed_run(scenario, monkeypatch, tmp_path):
    root, base, after, reference, _ = scenario
    wh = tmp_path / "wh"
    shutil.copytree(base, wh)
    real_move = warehouse._move

    def move(source, target):
        if "data_docs" in target.parts:
            raise OSError(30, "Read-only file system: " + " ".join(["data_docs/x.html"] * 2000))
        real_move(source, target)

    monkeypatch.setattr(warehouse, "_move", move)
    summary = pipeline.run_range(after, wh, _late_params(), LATE, validate=True)
    assert summary.invoices == 1
    assert not warehouse.is_publishing(wh) and not (wh / "data_docs").exists()
    assert _rows(wh) == reference


def test_an_unwritable_fingerprint_costs_only_a_full_rerun(scenario, monkeypatch, tmp_path):
    from transforms import unchanged

    root, base, after, reference, _ = scenario
    wh = tmp_path / "wh"
    shutil.copytree(base, wh)

    def refuse(*args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(unchanged, "remember", refuse)
    pipeline.run_range(after, wh, _late_params(), LATE, validate=True)
    assert _rows(wh) == reference
