"""The warehouse: deterministic files, re-runs that write only differences, atomic publish."""

import os
import subprocess
import sys
from datetime import date, datetime
from pathlib import Path

import pytest
from helpers import R1, D, bill, client, price, query, usage, write_extracts

from transforms import models, reports, warehouse
from transforms.pipeline import run_period


def _e1(folder: Path, extra_events=(), pricing_extra=()) -> Path:
    return write_extracts(folder, {
        "resellers": [R1],
        "clients": [client("C1", processor="stripe", processor_customer_ref="cus_C1"), client("C2")],
        "pricing": [price("emails", cycle_fee="20.00", included_units=10000, metered=False, overage_fee="0.0015"),
                    *pricing_extra],
        "usage_events": [usage("e1", "C1", "emails", "2026-09-14T08:00:00Z", 12500),
                         usage("e2", "C2", "emails", "2026-09-15T08:00:00Z", 300), *extra_events],
    })


def _snapshot(wh: Path) -> dict[str, tuple[bytes, int]]:
    return {str(p.relative_to(wh)): (p.read_bytes(), p.stat().st_mtime_ns) for p in sorted(wh.rglob("*")) if p.is_file()}


def _files(wh: Path, table: str) -> dict[str, bytes]:
    return {str(p.relative_to(wh)): p.read_bytes() for p in sorted((wh / table).rglob("*.parquet"))}


def test_same_extracts_give_byte_identical_line_files(tmp_path):
    ex = _e1(tmp_path / "ex")
    run_period(ex, tmp_path / "a", "2026-10", date(2026, 10, 5), datetime(2026, 10, 5, 1), validate=False)
    run_period(ex, tmp_path / "b", "2026-10", date(2026, 10, 6), datetime(2026, 10, 6, 2), validate=False)
    for table in ("invoice_lines", "usage_summary"):
        assert _files(tmp_path / "a", table) == _files(tmp_path / "b", table) != {}
    assert query(tmp_path / "a", "select invoice_id, total from invoices order by 1") == \
        query(tmp_path / "b", "select invoice_id, total from invoices order by 1")


def test_invoice_ids_are_stable_per_client_date_and_kind(tmp_path):
    ex = _e1(tmp_path / "ex")
    wh = tmp_path / "wh"
    bill(ex, wh, "2026-10")
    ids = dict(query(wh, "select client_id, invoice_id from invoices"))
    assert ids["C1"] != ids["C2"]
    from transforms.models import connect
    expected = connect().execute("select invoice_id_for('R1', 'C1', 'cycle', date '2026-10-01')").fetchone()[0]
    assert ids["C1"] == expected and expected.startswith("INV-") and len(expected) == 20


def test_an_unchanged_rerun_changes_no_invoice_line_or_summary_file(tmp_path):
    ex = _e1(tmp_path / "ex")
    wh = tmp_path / "wh"
    bill(ex, wh, "2026-10")
    before = _snapshot(wh)
    # a later as-of date: the period is recomputed in full (see the next test), and still nothing changes
    summary = bill(ex, wh, "2026-10", as_of=date(2026, 10, 30), second=1)
    after = _snapshot(wh)
    assert summary.invoices == 0 and summary.invoice_lines == 0
    for name, content in before.items():
        if name.startswith(("invoices/", "invoice_lines/", "usage_summary/")):
            assert after[name] == content, name
    assert query(wh, "select count(*) from runs") == [(2,)]
    assert query(wh, "select count(*) from runs where validation like 'unchanged since%'") == [(0,)]


@pytest.mark.parametrize("block", [1, 3, 4, 1 << 20])
def test_staged_files_are_compared_byte_for_byte_a_block_at_a_time(tmp_path, block):
    def file(name, content):
        (tmp_path / name).write_bytes(content)
        return tmp_path / name

    same = file("a", b"PAR1 rows PAR1"), file("b", b"PAR1 rows PAR1")
    assert warehouse.same_bytes(*same, block=block)
    assert not warehouse.same_bytes(file("c", b"PAR1 rows PAR1"), file("d", b"PAR1 rows PAR2"), block=block)  # last byte
    assert not warehouse.same_bytes(file("e", b"XAR1 rows PAR1"), file("f", b"PAR1 rows PAR1"), block=block)  # first
    assert not warehouse.same_bytes(file("g", b"PAR1 rows"), file("h", b"PAR1 rows PAR1"), block=block)  # a prefix
    assert warehouse.same_bytes(file("i", b""), file("j", b""), block=block)


def test_a_rerun_with_nothing_changed_is_recorded_without_recomputing(tmp_path):
    ex = _e1(tmp_path / "ex")
    wh = tmp_path / "wh"
    first = bill(ex, wh, "2026-10", validate=True)  # only a validated result is ever reused
    before = _snapshot(wh)
    again = bill(ex, wh, "2026-10", second=1)  # same files, range, as-of date, code and warehouse
    assert (again.invoices, again.invoice_lines, again.rejects, again.rows_read) == (0, 0, 0, first.rows_read)
    after = _snapshot(wh)
    assert {name: content for name, content in after.items() if not name.startswith(("runs/", "billing.duckdb"))} \
        == {name: content for name, content in before.items() if not name.startswith(("runs/", "billing.duckdb"))}
    records = query(wh, "select run_id, validation, input_files, row_counts, invoices_written from runs "
                        "order by started_at")
    assert records[1][1] == f"unchanged since {first.run_id}: {records[0][1]}"
    assert records[1][2:4] == records[0][2:4] and records[1][4] == 0 < records[0][4]

    # anything a run reads changing means a full run: an extract file ...
    _e1(ex, extra_events=[usage("e3", "C1", "emails", "2026-09-20T08:00:00Z", 1000)])
    changed = bill(ex, wh, "2026-10", second=2, validate=True)
    assert changed.invoices == 1  # C1 owes 1000 x 0.0015 = 1.50 more (E9)
    # ... or the warehouse (another period's run adds ledger entries this period reads)
    assert bill(ex, wh, "2026-10", second=3).invoices == 0
    bill(ex, wh, "2026-11", second=4)
    bill(ex, wh, "2026-10", second=5)
    assert query(wh, "select count(*) from runs where validation like 'unchanged since%'") == [(2,)]
    # a result that did not pass the suites is never reused
    bill(ex, wh, "2026-10", as_of=date(2026, 10, 29), second=6)
    bill(ex, wh, "2026-10", as_of=date(2026, 10, 29), second=7)
    assert query(wh, "select count(*) from runs where validation like 'unchanged since%'") == [(2,)]


def test_a_run_hashes_only_the_extract_files_that_changed_since_the_last_published_run(tmp_path, monkeypatch):
    from transforms import extracts

    ex = _e1(tmp_path / "ex")
    wh = tmp_path / "wh"
    hashed = []
    real = extracts._sha256
    monkeypatch.setattr(extracts, "_sha256", lambda path: hashed.append(path.parent.name) or real(path))
    first = bill(ex, wh, "2026-10")
    assert sorted(hashed) == sorted(p.parent.name for p in ex.glob("*/*.csv")) and len(hashed) >= 3
    hashed.clear()
    bill(ex, wh, "2026-10", as_of=date(2026, 10, 29), second=1)
    assert hashed == []  # the same stamps: the digests the first run saw
    # the same size and modification time, other content: its status-change time still moves
    events = ex / "usage_events" / "part-1.csv"
    status = events.stat()
    events.write_bytes(events.read_bytes().replace(b"2026-09-14", b"2026-09-13"))
    os.utime(events, ns=(status.st_atime_ns, status.st_mtime_ns))
    assert events.stat().st_size == status.st_size
    changed = bill(ex, wh, "2026-10", as_of=date(2026, 10, 30), second=2)
    assert hashed == ["usage_events"]
    files = dict(query(wh, "select run_id, input_files from runs"))
    assert [f["sha256"] for f in files[changed.run_id] if f["table_name"] == "usage_events"] != [
        f["sha256"] for f in files[first.run_id] if f["table_name"] == "usage_events"]
    # a lost record only costs hashing again
    (wh / "_run_state" / "file_hashes.json").unlink()
    hashed.clear()
    bill(ex, wh, "2026-10", as_of=date(2026, 10, 30), second=3)
    assert len(hashed) >= 3


def test_e9_late_usage_then_a_price_correction_become_adjustment_revisions(tmp_path):
    wh = tmp_path / "wh"
    bill(_e1(tmp_path / "ex1"), wh, "2026-10", as_of=date(2026, 10, 1))
    c1 = query(wh, "select invoice_id from invoices where client_id = 'C1'")[0][0]

    late = [usage("late1", "C1", "emails", "2026-09-15T00:00:00Z", 1000)]
    bill(_e1(tmp_path / "ex2", late), wh, "2026-10", as_of=date(2026, 10, 20), second=1)
    assert query(wh, "select invoice_id, revision, kind, total, invoice_date::varchar, issued_on::varchar, "
                     "due_date::varchar from invoices where revision = 2") == [
        (c1, 2, "adjustment", D("1.50"), "2026-10-01", "2026-10-20", "2026-10-20")
    ]
    assert query(wh, "select item_code, line_type, quantity, amount from invoice_lines where revision = 2") == [
        ("emails", "overage", D("1000"), D("1.50"))
    ]
    charges = "select invoice_id, revision, amount, kind, status, idempotency_key from charges order by revision"
    assert query(wh, charges + " ") == [
        (c1, 1, D("23.75"), "recurring", "pending", f"billing-{c1}-r1"),
        (c1, 2, D("1.50"), "adjustment", "pending", f"billing-{c1}-r2"),
    ]

    before = _snapshot(wh)
    bill(_e1(tmp_path / "ex2", late), wh, "2026-10", as_of=date(2026, 10, 21), second=2)
    assert query(wh, "select max(revision) from invoices") == [(2,)]
    after = _snapshot(wh)
    for name, content in before.items():  # nothing changed: no invoice, line or charge file touched
        if name.startswith(("invoices/", "invoice_lines/", "charges/")):
            assert after[name] == content, name

    fix = [price("emails", effective_from="2026-09-01", cycle_fee="20.00", included_units=10000, metered=False,
                 overage_fee="0.0010")]
    bill(_e1(tmp_path / "ex3", late, fix), wh, "2026-10", as_of=date(2026, 10, 22), second=3)
    assert query(wh, "select kind, total, credits from invoices where revision = 3") == [
        ("adjustment", D("-1.75"), D("1.75"))
    ]
    assert query(wh, "select item_code, line_type, quantity, amount from invoice_lines where revision = 3") == [
        ("emails", "overage", D("0"), D("-1.75"))
    ]
    # a credit on the ledger, never a negative charge
    assert query(wh, "select count(*), min(amount) from charges") == [(2, D("1.50"))]
    assert query(wh, "select entry_type, amount from ledger where reference = $r", {"r": f"{c1}#3"}) == [
        ("adjustment", D("-1.75"))
    ]
    # the current state of the invoice is the sum of its revisions: 20.00 + 3.50
    assert query(wh, "select sum(amount) from invoice_lines where invoice_id = $id", {"id": c1}) == [(D("23.50"),)]
    # C2's invoice (no change) never got a second revision
    assert query(wh, "select max(revision) from invoices where client_id = 'C2'") == [(1,)]
    # the warehouse's current-state views say the same
    assert query(wh, "select kind, total, last_revision, invoice_date::varchar from invoices_current "
                     "where invoice_id = $id", {"id": c1}) == [("cycle", D("23.50"), 3, "2026-10-01")]
    assert query(wh, "select line_type, quantity, amount from invoice_lines_current where invoice_id = $id "
                     "order by line_type", {"id": c1}) == [
        ("cycle_fee", D("1"), D("20.00")), ("overage", D("3500"), D("3.50"))
    ]
    # what each run changed, newest first; the latest run's changes per client
    runs = reports.runs_listed(wh)[1]
    assert [(r[4], r[5], r[6]) for r in runs] == [(0, 1, D("-1.75")), (0, 0, D("0")), (0, 1, D("1.50")),
                                                 (2, 0, D("0"))]
    assert [row[:7] for row in reports.rerun_changes(wh, "2026-10")[1]] == [
        ("C1", c1, 3, "emails", "overage", D("0"), D("-1.75"))
    ]


def test_a_run_that_fails_while_building_leaves_the_warehouse_as_it_was(tmp_path, monkeypatch):
    ex = _e1(tmp_path / "ex")
    wh = tmp_path / "wh"
    bill(ex, wh, "2026-10")
    before = _snapshot(wh)

    def boom(con, after=None):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(models, "build_billing", boom)
    with pytest.raises(RuntimeError):
        bill(_e1(tmp_path / "ex2", [usage("x", "C1", "emails", "2026-09-20T00:00:00Z", 5)]), wh, "2026-10", second=1)
    assert _snapshot(wh) == before
    assert list(tmp_path.glob(".wh.staging-*")) == []


def test_a_crash_after_the_commit_point_is_finished_by_the_next_run(tmp_path, monkeypatch):
    ex = _e1(tmp_path / "ex")
    reference = tmp_path / "reference"
    bill(ex, reference, "2026-10")

    wh = tmp_path / "wh"
    real_replace = warehouse.os.replace
    moves = []

    def crash_after_one_move(src, dst):
        if str(dst).endswith(".parquet") and moves:
            raise SystemExit("killed")
        moves.append(dst)
        real_replace(src, dst)

    monkeypatch.setattr(warehouse.os, "replace", crash_after_one_move)
    with pytest.raises(SystemExit):
        bill(ex, wh, "2026-10")
    monkeypatch.setattr(warehouse.os, "replace", real_replace)
    assert (wh / warehouse.JOURNAL).exists()

    warehouse.recover(wh)
    assert not (wh / warehouse.JOURNAL).exists()
    assert _files(wh, "invoice_lines") == _files(reference, "invoice_lines")
    assert query(wh, "select invoice_id, total from invoices order by 1") == \
        query(reference, "select invoice_id, total from invoices order by 1")


def test_billing_duckdb_is_rebuilt_only_when_what_it_is_built_from_changes(tmp_path, monkeypatch):
    import duckdb

    ex = _e1(tmp_path / "ex")
    wh = tmp_path / "wh"
    bill(ex, wh, "2026-10")
    view_db = wh / warehouse.VIEW_DB

    def built() -> tuple[int, int]:  # a rebuilt file is a new file renamed into place
        stat = view_db.stat()
        return stat.st_ino, stat.st_mtime_ns

    def refreshed() -> bool:
        before = built()
        warehouse.refresh_views(wh)
        return built() != before

    assert not refreshed()  # nothing it is built from changed
    # the next period's run adds files to tables that have some: the views' globs read them
    bill(ex, wh, "2026-11", second=1)
    assert not refreshed() and query(wh, "select count(*) from invoices where period = '2026-11'") == [(2,)]

    # a table's first file: its view turns from the zero-row schema file to its files, same columns
    columns = ("select column_name, data_type from duckdb_columns() where table_name = 'charge_attempts' "
               "order by column_index")
    without_files = query(wh, columns)
    assert without_files[-1] == ("period", "VARCHAR")  # the partition folder's column, as with files
    attempts = wh / "charge_attempts" / "period=2026-10" / "a.parquet"
    attempts.parent.mkdir(parents=True)
    con = duckdb.connect()
    con.execute(f"copy (select * exclude (period) from read_parquet('{wh}/_schemas/charge_attempts.parquet') "
                f"union all by name select 'CH1' as charge_id) to '{attempts}' (format parquet)")
    assert refreshed() and query(wh, "select charge_id, period from charge_attempts") == [("CH1", "2026-10")]
    assert query(wh, columns) == without_files
    attempts.unlink()
    assert refreshed() and query(wh, "select count(*) from charge_attempts") == [(0,)]  # its last file gone
    # new code publishing a table with one column more (its schema file says so)
    schema = wh / "_schemas" / "charge_attempts.parquet"
    con.execute(f"copy (select *, 'x' as extra from read_parquet('{schema}')) to '{schema}.new' (format parquet)")
    os.replace(f"{schema}.new", schema)
    assert refreshed() and query(wh, "select count(*) from charge_attempts where extra is null") == [(0,)]
    # (a view's query is bound again when read; its column list, which `describe` shows, is not)
    assert query(wh, "select count(*) from duckdb_columns() where table_name = 'charge_attempts' "
                     "and column_name = 'extra'") == [(1,)]
    # someone wrote into the file: it is derived, so it is built again as the warehouse says
    with duckdb.connect(str(view_db)) as writer:
        writer.execute("create table scratch as select 1")
    assert refreshed() and query(wh, "select count(*) from duckdb_tables() where table_name = 'scratch'") == [(0,)]
    # the marker lost
    (wh / warehouse.VIEWS_DIGEST).unlink()
    assert refreshed() and not refreshed()
    # the warehouse moved: the views name the files by absolute path
    moved = tmp_path / "moved"
    wh.rename(moved)
    wh = moved
    view_db, schema = wh / warehouse.VIEW_DB, wh / "_schemas" / "charge_attempts.parquet"
    assert refreshed() and query(wh, "select count(*) from invoices") == [(4,)]

    # a file replaced by a refresh that failed after building it: the marker went first
    real_replace = warehouse.os.replace

    def fail_the_rename(src, dst):
        if str(dst).endswith(warehouse.VIEW_DB):
            raise OSError("disk full")
        real_replace(src, dst)

    with monkeypatch.context() as patch:
        patch.setattr(warehouse.os, "replace", fail_the_rename)
        schema.write_bytes(schema.read_bytes())  # the same bytes: only a failed refresh forces the next one
        (wh / warehouse.VIEWS_DIGEST).write_text("stale")
        with pytest.raises(OSError):
            warehouse.refresh_views(wh)
    assert not (wh / warehouse.VIEWS_DIGEST).exists()
    assert refreshed()


def test_a_second_run_on_a_busy_warehouse_stops_with_a_clear_message(tmp_path):
    """Another process holds the warehouse (within one process the lock is re-entrant)."""
    wh = tmp_path / "wh"
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; from pathlib import Path; from transforms import warehouse\n"
         "with warehouse.locked(Path(sys.argv[1])):\n    print('locked', flush=True); time.sleep(60)", str(wh)],
        stdout=subprocess.PIPE, text=True, cwd=Path(__file__).resolve().parent.parent)
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(warehouse.WarehouseBusy, match="another billing run is using"):
            bill(_e1(tmp_path / "ex"), wh, "2026-10")
    finally:
        holder.kill()
        holder.wait()
    with warehouse.locked(wh), warehouse.locked(wh):  # re-entrant in one process
        pass
