"""Hostile inputs and operations (issue "Hardening", defects 2-7; defect 1 is
test_publish_idempotent.py): tenant ids that cannot become paths, keys that keep the tenant,
a read-only analyst shell, paths that are never patterns, data printed literally, and the
smaller defects."""

from datetime import date
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from helpers import R1, D, bill, client, price, query, usage, write_extracts
from test_cli import _billing

from transforms import warehouse

FORMAT_REASON = "reseller_id must be 1-64 characters: a letter or digit, then letters, digits, _ . or -"


def _reseller(reseller_id: str, currency: str = "USD") -> dict:
    return {"reseller_id": reseller_id, "name": f"Reseller {reseller_id}", "currency": currency, "net_days": "0"}


def _tenant(reseller_id: str, client_id: str = "K1", **extra) -> dict[str, list[dict]]:
    """A reseller with one client billed 20.00 a month for emails, and one usage event."""
    return {
        "resellers": [_reseller(reseller_id)],
        "clients": [client(client_id, reseller_id=reseller_id, **extra)],
        "pricing": [price("emails", reseller_id=reseller_id, cycle_fee="20.00", metered=True, unit_fee="0.01")],
        "usage_events": [usage("e1", client_id, "emails", "2026-09-14T08:00:00Z", 100, reseller_id=reseller_id)],
    }


def _merge(*tenants: dict[str, list[dict]]) -> dict[str, list[dict]]:
    merged: dict[str, list[dict]] = {}
    for tenant in tenants:
        for table, rows in tenant.items():
            merged.setdefault(table, []).extend(rows)
    return merged


def _files_outside(root: Path, allowed: set[str]) -> list[Path]:
    return [p for p in root.rglob("*") if p.relative_to(root).parts[0] not in allowed]


# --- defect 2: tenant ids never become paths ------------------------------------------------

BAD_RESELLER_IDS = [
    "EV/../../../escaped", "../up", "A/B", "P%2F9", "x" * 300, "y" * 65, ".hidden", "-dash", "a b",
    "semi;colon", "quote'd", "ünicode", "star*", "[bracket]", "back\\slash",
]  # ids holding control characters: test_ids_with_control_characters_are_rejected
PLAIN_RESELLER_IDS = ["R1", "007", "NULL", "a.b-c_D", "z" * 64, "1e5"]


def test_reseller_ids_that_are_not_plain_names_are_rejected_and_never_become_paths(tmp_path):
    tenants = [_tenant(rid) for rid in BAD_RESELLER_IDS + PLAIN_RESELLER_IDS]
    ex = write_extracts(tmp_path / "ex", _merge(*tenants))
    wh = tmp_path / "wh"
    bill(ex, wh, "2026-10")

    # nothing was written outside the warehouse (and its lock file beside it)
    assert sorted(p.name for p in tmp_path.iterdir()) == [".wh.lock", "ex", "wh"]
    assert _files_outside(wh, {"invoices", "invoice_lines", "usage_summary", "ledger", "account_status",
                               "charges", "rejects", "runs", "_schemas", "_run_state", "billing.duckdb"}) == []
    folders = {p.name for p in wh.glob("*/reseller_id=*")}
    assert folders == {f"reseller_id={rid}" for rid in PLAIN_RESELLER_IDS}

    # every plain id is billed and reads back exactly as it came in
    billed = query(wh, "select reseller_id, client_id, total from invoices order by all")
    assert billed == sorted((rid, "K1", D("21.00")) for rid in PLAIN_RESELLER_IDS)
    assert {r for (r,) in query(wh, "select distinct reseller_id from invoice_lines")} == set(PLAIN_RESELLER_IDS)

    # every other id is a reject with the reason, and so is every row that names it
    rejected = query(wh, "select table_name, reason from rejects order by all")
    for rid in BAD_RESELLER_IDS:
        assert ("resellers", FORMAT_REASON) in rejected
        reason = f"unknown reseller: reseller {rid} was rejected (see its resellers row)"
        assert ("clients", reason) in rejected, rid
        assert ("pricing", reason) in rejected, rid
    assert len([r for r in rejected if r[0] == "resellers"]) == len(BAD_RESELLER_IDS)


def test_a_reseller_with_a_currency_that_is_not_iso_4217_is_rejected(tmp_path):
    resellers = [_reseller("R1"), _reseller("RX", "XYZ"), _reseller("RK", "KWD"), _reseller("RC", "CLF"),
                 _reseller("RJ", "jpy")]
    ex = write_extracts(tmp_path / "ex", {"resellers": resellers})
    wh = tmp_path / "wh"
    bill(ex, wh, "2026-10")
    assert query(wh, "select reason from rejects where table_name = 'resellers' order by source_line") == [
        ("currency XYZ is not an ISO 4217 code",),
        ("currency KWD has more than 2 decimals, which billing does not support",),
        ("currency CLF has more than 2 decimals, which billing does not support",),
    ]


def test_rows_of_an_unknown_reseller_and_of_a_rejected_one_say_which(tmp_path):
    ex = write_extracts(tmp_path / "ex", {
        "resellers": [R1, _reseller("R4", "XYZ")],
        "groups": [{"reseller_id": "R4", "group_id": "G1"}, {"reseller_id": "R9", "group_id": "G1"}],
    })
    wh = tmp_path / "wh"
    bill(ex, wh, "2026-10")
    assert query(wh, "select reason from rejects where table_name = 'groups' order by source_line") == [
        ("unknown reseller: reseller R4 was rejected (see its resellers row)",),
        ("unknown reseller R9",),
    ]


def test_ids_with_control_characters_are_rejected(tmp_path):
    tables = _tenant("R1")
    tables["usage_events"].append(usage("e\t2", "K1", "emails", "2026-09-15T08:00:00Z", 5))
    tables["usage_events"].append(usage("e3", "K\n2", "emails", "2026-09-15T08:00:00Z", 5))
    tables["clients"].append(client("K\n2"))
    tables["groups"] = [{"reseller_id": "R1", "group_id": "G\x01"}]
    ex = write_extracts(tmp_path / "ex", tables)
    wh = tmp_path / "wh"
    bill(ex, wh, "2026-10")
    assert query(wh, "select table_name, reason from rejects order by all") == [
        ("clients", "reseller_id / client_id holds a control character (ids are text without them)"),
        ("groups", "reseller_id / group_id holds a control character (ids are text without them)"),
        ("usage_events", "client K\n2 was rejected (see its clients row)"),
        ("usage_events", "reseller_id / event_id holds a control character (ids are text without them)"),
    ]
    assert query(wh, "select total from invoices") == [(D("21.00"),)]  # K1 is billed as before


# --- defect 3: keys and ids keep the tenant --------------------------------------------------

def test_two_resellers_with_the_same_client_ids_are_both_billed_and_validated(tmp_path):
    ex = write_extracts(tmp_path / "ex", _merge(
        _tenant("R1", processor="stripe", processor_customer_ref="cus_1"),
        _tenant("R2", processor="stripe", processor_customer_ref="cus_2"),
    ))
    wh = tmp_path / "wh"
    bill(ex, wh, "2026-10", validate=True)  # the fail suites (unique keys) pass
    assert query(wh, "select reseller_id, client_id, as_of::varchar from account_status order by all") == [
        ("R1", "K1", "2026-10-31"), ("R2", "K1", "2026-10-31")]
    assert query(wh, "select count(distinct invoice_id), count(distinct run_id) from invoices") == [(2, 1)]
    assert query(wh, "select count(distinct charge_id), count(distinct idempotency_key) from charges") == [(2, 2)]
    assert query(wh, "select count(distinct entry_id), count(*) from ledger") == [(2, 2)]
    assert query(wh, "select count(*) from usage_summary where client_id = 'K1'") == [(2,)]


def test_a_row_naming_another_reseller_s_client_says_so_in_every_table_that_names_clients(tmp_path):
    # R1 has K1 and C8 (its row rejected: bill_day 31); R2 has K1, C8 and C9. Each table that
    # names a client gets, in R1's name: C9 (R2's only), C7 (nobody's), C8 (R1's rejected one,
    # which R2 also has) and K1 (both have it: R1's, billed).
    tables = _merge(_tenant("R1"), _tenant("R2"))
    tables["clients"] += [client("C8", reseller_id="R1", bill_day=31), client("C8", reseller_id="R2"),
                          client("C9", reseller_id="R2")]
    others = ("C9", "C7", "C8")
    tables["usage_events"] += [usage(f"u{c}", c, "emails", "2026-09-15T08:00:00Z", 5) for c in others]
    tables["pricing"] += [price("emails", level="client", client_id=c, reseller_id="R1", unit_fee="0.02")
                          for c in others]
    tables["lead_sales"] = [{"reseller_id": "R1", "sale_id": f"s{c}", "client_id": c, "lead_id": f"l{c}",
                             "lead_type": "solar", "sold_at": "2026-10-14T09:00:00Z", "price": "10.00"}
                            for c in (*others, "K1")]
    tables["payments"] = [{"reseller_id": "R1", "payment_id": f"p{c}", "client_id": c,
                           "paid_at": "2026-10-20T12:00:00Z", "amount": "1.00", "method": "wire"} for c in others]
    tables["manual_items"] = [{"reseller_id": "R1", "manual_item_id": f"m{c}", "client_id": c,
                               "created_at": "2026-10-10T09:00:00Z", "description": "setup", "amount": "3.00",
                               "bill_mode": "now"} for c in others]
    ex = write_extracts(tmp_path / "ex", tables)
    wh = tmp_path / "wh"
    bill(ex, wh, "2026-10")
    expected = ["client belongs to another reseller", "unknown client C7", "client C8 was rejected (see its clients row)"]
    for table in ("usage_events", "pricing", "lead_sales", "payments", "manual_items"):
        assert query(wh, "select reason from rejects where table_name = $t order by source_line", {"t": table}) == [
            (reason,) for reason in expected], table
    assert query(wh, "select reason from rejects where table_name = 'clients'") == [
        ("bill_day must be a whole number from 1 to 28",)]
    # K1 of each reseller: 20.00 + 100 emails x 0.01, and R1's bought a lead for 10.00; R2's C8
    # and C9 pay the cycle fee only (none of the rows above is theirs)
    assert query(wh, "select reseller_id, client_id, kind, total from invoices order by all") == [
        ("R1", "K1", "cycle", D("21.00")), ("R1", "K1", "leads", D("10.00")), ("R2", "C8", "cycle", D("20.00")),
        ("R2", "C9", "cycle", D("20.00")), ("R2", "K1", "cycle", D("21.00"))]


def test_ids_holding_separators_never_share_a_ledger_entry(tmp_path):
    """Client `K|P1` paying `X` and client `K` paying `P1|X`: two payments, two entries."""
    payments = [
        {"reseller_id": "R1", "payment_id": "X", "client_id": "K|P1", "paid_at": "2026-10-05T00:00:00Z",
         "amount": "5.00", "method": "wire"},
        {"reseller_id": "R1", "payment_id": "P1|X", "client_id": "K", "paid_at": "2026-10-05T00:00:00Z",
         "amount": "7.00", "method": "wire"},
    ]
    ex = write_extracts(tmp_path / "ex", {
        "resellers": [R1], "clients": [client("K|P1"), client("K")], "payments": payments,
        "pricing": [price("account", cycle_fee="10.00")],
    })
    wh = tmp_path / "wh"
    bill(ex, wh, "2026-10", validate=True)
    assert query(wh, "select client_id, amount from ledger where entry_type = 'payment' order by client_id") == [
        ("K", D("-7.00")), ("K|P1", D("-5.00"))]
    assert query(wh, "select client_id, balance_owed from account_status order by client_id") == [
        ("K", D("3.00")), ("K|P1", D("5.00"))]


# --- defect 4: the analyst shell only reads the warehouse ------------------------------------

def _snapshot(wh: Path) -> dict[str, tuple[int, int]]:
    return {str(p.relative_to(wh)): (p.stat().st_size, p.stat().st_mtime_ns) for p in wh.rglob("*")}


@pytest.fixture(scope="module")
def billed(tmp_path_factory):
    root = tmp_path_factory.mktemp("billed")
    ex = write_extracts(root / "ex", _tenant("R1"))
    wh = root / "wh [prod]*"  # a path with glob characters (defect 5)
    bill(ex, wh, "2026-10")
    return wh


def test_billing_query_refuses_anything_but_reading_the_warehouse(billed, tmp_path):
    wh = billed
    target = next(wh.glob("invoices/*/*/data.parquet"))
    before = _snapshot(wh)
    attempts = [
        (f"copy (select 1) to '{target}' (format parquet)", "only a read-only query"),
        (f"copy invoices to '{wh}/stolen.csv'", "only a read-only query"),
        (f"attach '{wh}/x.duckdb' as x (read_write)", "only a read-only query"),
        ("install httpfs", "only a read-only query"),
        ("load httpfs", "only a read-only query"),
        ("set enable_external_access = true", "only a read-only query"),
        ("pragma enable_profiling", "only a read-only query"),
        ("create table x as select 1", "only a read-only query"),
        ("drop view invoices", "only a read-only query"),
        ("select 1; select 2", "exactly one query"),
        ("select * from read_text('/etc/passwd')", "query failed"),
        (f"select * from read_text('{wh}/../../../../etc/passwd')", "query failed"),
        ("select * from read_csv('/etc/passwd')", "query failed"),
        ("select * from glob('/*')", "query failed"),
        ("select * from nowhere", "query failed"),
    ]
    for sql, message in attempts:
        done = _billing("query", "--warehouse", str(wh), sql, home=tmp_path)
        assert done.returncode != 0, sql
        assert len(done.stderr.strip().splitlines()) == 1 and message in done.stderr, (sql, done.stderr)
        assert "root:" not in done.stdout + done.stderr
    assert _snapshot(wh) == before
    assert not (tmp_path / "stolen.csv").exists()

    # what the shell is for still works: a query, and its export to a file outside the warehouse
    done = _billing("query", "--warehouse", str(wh), "select client_id, total from invoices", "--format", "parquet",
                    "--out", str(tmp_path / "out.parquet"), home=tmp_path)
    assert done.returncode == 0, done.stderr
    assert pq.read_table(tmp_path / "out.parquet").to_pylist() == [{"client_id": "K1", "total": D("21.00")}]
    done = _billing("query", "--warehouse", str(wh), "select client_id, total from invoices", "--format", "csv",
                    "--out", str(tmp_path / "out.csv"), home=tmp_path)
    assert done.returncode == 0 and (tmp_path / "out.csv").read_text() == "client_id,total\nK1,21.00\n"
    assert _snapshot(wh) == before


# --- defects 5 and 6: paths are data, data is printed as it is -------------------------------

@pytest.mark.parametrize("ex_name, wh_name", [
    ("ex [2026]*?", "wh [prod]*"),
    # folders named like partitions: their `key=value` is part of the path, never a column
    ("client_id=ZZ/item_code=x/ex", "reseller_id=R9/period=1999-01/env=prod/wh"),
])
def test_a_warehouse_and_extracts_path_with_glob_characters_bill_and_rebill(tmp_path, ex_name, wh_name):
    ex = write_extracts(tmp_path / ex_name, _tenant("R1"))
    wh = tmp_path / wh_name
    bill(ex, wh, "2026-10")
    (ex / "usage_events" / "late [1].csv").write_text(
        "reseller_id,event_id,client_id,item_code,occurred_at,quantity\nR1,e2,K1,emails,2026-09-20T00:00:00Z,50\n")
    bill(ex, wh, "2026-10", second=1)
    assert not warehouse.is_publishing(wh)
    assert query(wh, "select revision, total from invoices order by revision") == [(1, D("21.00")), (2, D("0.50"))]
    assert query(wh, "select count(*) from runs") == [(2,)]


def test_a_warehouse_path_with_a_question_mark_is_refused_in_one_line(tmp_path):
    """DuckDB reads `?` in a database path as the start of URL options (its write-ahead log
    would land in another folder), so such a warehouse is refused before anything is written."""
    ex = write_extracts(tmp_path / "ex", _tenant("R1"))
    done = _billing("run", "--extracts", str(ex), "--warehouse", str(tmp_path / "wh?"), "--period", "2026-10",
                    home=tmp_path)
    assert done.returncode == 1 and len(done.stderr.strip().splitlines()) == 1
    assert "the warehouse path may not contain '?'" in done.stderr
    assert not (tmp_path / "wh?").exists()


def test_a_warehouse_path_naming_a_file_is_refused_in_one_line_and_nothing_is_put_beside_it(tmp_path):
    ex = write_extracts(tmp_path / "ex", _tenant("R1"))
    (tmp_path / "files").mkdir()
    not_a_folder = tmp_path / "files" / "notes.txt"
    not_a_folder.write_text("kept as it is")
    done = _billing("run", "--extracts", str(ex), "--warehouse", str(not_a_folder), "--period", "2026-10",
                    home=tmp_path)
    assert done.returncode == 1 and len(done.stderr.strip().splitlines()) == 1
    assert f"the warehouse path is a file, not a folder: {not_a_folder}" in done.stderr
    assert not_a_folder.read_text() == "kept as it is" and sorted(p.name for p in not_a_folder.parent.iterdir()) == [
        "notes.txt"]


def test_values_print_literally_never_as_markup(billed, tmp_path):
    text = "[/i] [bold]x[/bold] :smile: [link=http://x]y[/link]"
    done = _billing("query", "--warehouse", str(billed), f"select '{text}' as \"[red]v[/red]\"", home=tmp_path)
    assert done.returncode == 0, done.stderr
    assert text in done.stdout and "[red]v[/red]" in done.stdout
    done = _billing("runs", "--warehouse", str(billed), home=tmp_path)
    assert done.returncode == 0 and "run-20261125T120000000000Z" in done.stdout


# --- defect 7: the smaller ones ---------------------------------------------------------------

def test_csv_rejects_report_the_physical_line_after_a_value_spanning_lines(tmp_path):
    folder = tmp_path / "ex"
    write_extracts(folder, {"resellers": [R1]})
    (folder / "groups").mkdir()
    (folder / "groups" / "groups.csv").write_text(
        "reseller_id,group_id,name\n"         # line 1
        'R1,G1,"two\nlines"\n'                # lines 2-3
        "R1,,no id\n"                         # line 4: missing group_id
        'R1,G3,"three\r\nmore\nlines"\n'      # lines 5-7
        "R1,G4\n"                             # line 8: malformed (a column missing)
        "R9,G5,unknown reseller\n"            # line 9
    )
    wh = tmp_path / "wh"
    bill(folder, wh, "2026-10")
    assert query(wh, "select source_line, reason from rejects where table_name = 'groups' order by 1") == [
        (4, "missing group_id"),
        (8, "malformed CSV line: expected number of columns: 3 found: 2"),
        (9, "unknown reseller R9"),
    ]
    # the line count across quoted line breaks is a sum: it was a HUGEINT, published as a DOUBLE
    assert query(wh, "select distinct typeof(source_line) from rejects") == [("BIGINT",)]


def test_a_refused_concurrent_run_prints_one_line_and_starts_nothing(tmp_path):
    ex = write_extracts(tmp_path / "ex", _tenant("R1"))
    wh = tmp_path / "wh"
    with warehouse.locked(wh):
        done = _billing("run", "--extracts", str(ex), "--warehouse", str(wh), "--period", "2026-10",
                        home=tmp_path)
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [f"billing: another billing run is using {wh}; try again when it ends"]
    assert done.stdout.strip() == ""
    assert not (tmp_path / "prefect").exists()  # Prefect was never started


def test_an_error_is_one_short_line(tmp_path):
    ex = tmp_path / "ex"
    (ex / "resellers").mkdir(parents=True)
    (ex / "resellers" / "r.parquet").write_bytes(b"PAR1" + b"x" * 100_000)  # not Parquet at all
    done = _billing("run", "--extracts", str(ex), "--warehouse", str(tmp_path / "wh"), "--period", "2026-10",
                    home=tmp_path)
    assert done.returncode == 1
    assert len(done.stderr.strip().splitlines()) == 1 and len(done.stderr) <= 320, done.stderr


def _lockout(folder: Path, paid_on: str) -> Path:
    """E-style: 100.00 a month on the 1st, due 7 days later, lock-out when owing; the October
    invoice (past due from 10-09) is paid on `paid_on`; November's is past due from 11-09."""
    reseller = dict(R1, net_days="7")
    return write_extracts(folder, {
        "resellers": [reseller],
        "clients": [client("C1", start="2026-10-01")],
        "pricing": [price("account", cycle_fee="100.00", lockout_when_owing=True)],
        "payments": [{"reseller_id": "R1", "payment_id": "P1", "client_id": "C1", "paid_at": f"{paid_on}T10:00:00Z",
                      "amount": "100.00", "method": "wire"}],
    })


@pytest.mark.parametrize("paid_on, since_on_nov_30", [
    ("2026-11-12", "2026-10-09"),  # paid after November's invoice fell past due: no break
    ("2026-11-05", "2026-11-09"),  # paid before it: clear 11-05 to 11-08, locked again from 11-09
])
def test_locked_since_is_the_first_day_of_the_current_unbroken_lock_out(tmp_path, paid_on, since_on_nov_30):
    ex = _lockout(tmp_path / "ex", paid_on)
    wh = tmp_path / "wh"
    bill(ex, wh, "2026-10", as_of=date(2026, 10, 31))
    bill(ex, wh, "2026-11", as_of=date(2026, 11, 30), second=1)
    assert query(wh, "select as_of::varchar, status, past_due, locked_since::varchar from account_status "
                     "order by as_of") == [
        ("2026-10-31", "locked", D("100.00"), "2026-10-09"),
        ("2026-11-30", "locked", D("100.00"), since_on_nov_30),
    ]


def test_a_model_out_of_duckdb_memory_names_itself_and_the_setting_to_raise(monkeypatch):
    import duckdb

    from transforms import graph, models

    # a list aggregate cannot spill: 3M integers never fit in 4 MB
    hungry = graph.Model("int_hungry", "intermediate", "select list(range) as l from range(3000000)")
    monkeypatch.setattr(graph, "models", lambda: {"int_hungry": hungry})
    con = duckdb.connect()
    con.execute("set memory_limit = '4MB'")
    con.execute("set threads = 1")
    with pytest.raises(duckdb.OutOfMemoryException) as failed:
        models.build_model(con, "int_hungry")
    assert str(failed.value).startswith("model int_hungry needs more than DuckDB's memory_limit (3.8 MiB; "
                                        "BILLING_DUCKDB_MEMORY_LIMIT sets it): Out of Memory Error: ")


def test_a_database_file_written_with_other_macros_gets_this_code_s_macros(tmp_path, monkeypatch):
    import duckdb

    from transforms import models

    db = tmp_path / "work.duckdb"
    old = duckdb.connect(str(db))  # as if an older macros.sql had made it: another body, an old digest
    old.execute("create macro is_units_text(x) as false")
    old.execute("create macro billing_macros_digest() as 'an older macros.sql'")
    old.close()
    con = models.connect(db)
    assert con.execute("select is_units_text('1.5'), is_units_text('-1')").fetchone() == (True, False)
    con.close()

    # any change to the text replaces them: the digest is of the text
    real = models._read("macros.sql")
    monkeypatch.setattr(models, "_read", lambda relative: real + "\ncreate or replace macro is_units_text(x) as false;")
    con = models.connect(db)
    assert con.execute("select is_units_text('1.5')").fetchone() == (False,)
    con.close()
    monkeypatch.setattr(models, "_read", lambda relative: real)
    con = models.connect(db)
    assert con.execute("select is_units_text('1.5')").fetchone() == (True,)
    # and a file holding this text's digest is not written again (what makes a connection cheap)
    con.execute("create or replace macro is_units_text(x) as 'left alone'")
    con.close()
    con = models.connect(db)
    assert con.execute("select is_units_text('1.5')").fetchone() == ("left alone",)


def test_a_small_work_database_stays_open_between_a_run_s_stages_and_a_large_one_does_not(tmp_path, monkeypatch):
    from transforms import models

    db = tmp_path / "work.duckdb"
    models.connect(db).close()
    wal = db.with_name(db.name + ".wal")

    def a_stage_writes():  # a stage: connect, write, close (a close with no other connection checkpoints)
        con = models.connect(db)
        con.execute("create or replace table t as select 1 as x")
        con.close()

    with models.kept_open(db):
        a_stage_writes()
        assert wal.exists()  # the instance stayed open: no checkpoint at the stage's close
        con = models.connect(db)  # the next stage sees what the last one wrote
        assert con.execute("select x from t").fetchone() == (1,)
        con.close()
    assert not wal.exists()  # checkpointed once, when the run let go of it

    for reason in ({"shared": False}, {}):  # attached read-only elsewhere (scale-out), or too large
        if not reason:
            monkeypatch.setattr(models, "KEEP_OPEN_BELOW", db.stat().st_size)
        with models.kept_open(db, **reason):
            a_stage_writes()
            assert not wal.exists()
