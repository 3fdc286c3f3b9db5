"""Ledger and account status (billing-rules.md section 7), hand-worked."""

from datetime import date, datetime

from helpers import D, bill, client, price, query, write_extracts

from transforms import models
from transforms.pipeline import run_night

R1_NET10 = {"reseller_id": "R1", "name": "Reseller One", "currency": "USD", "net_days": "10"}


def _payment(payment_id, client_id, paid_at, amount):
    return {"reseller_id": "R1", "payment_id": payment_id, "client_id": client_id, "paid_at": paid_at,
            "amount": amount, "method": "wire"}


def _extracts(folder, payments):
    return write_extracts(folder, {
        "resellers": [R1_NET10],
        "clients": [client("C1"), client("C2", start="2026-09-10", bill_day=10), client("C3", cancel_date="2026-09-20"),
                    client("C4")],
        "pricing": [
            price("account", cycle_fee="100.00", lockout_when_owing=True),
            price("account", level="client", client_id="C2", trial_days=30),
            price("account", level="client", client_id="C4", lockout_when_owing=False),
        ],
        "payments": payments,
    })


def _status(wh, as_of):
    return query(wh, "select client_id, status, balance_owed, past_due, locked_since::varchar, reason, "
                     "next_bill_date::varchar from account_status where as_of = $d::date order by client_id",
                 {"d": as_of})


def test_lock_out_while_past_due_and_unlocked_once_paid(tmp_path):
    wh = tmp_path / "wh"
    bill(_extracts(tmp_path / "ex1", [_payment("P1", "C1", "2026-09-05T10:00:00Z", "60.00")]), wh, "2026-09")
    assert _status(wh, "2026-09-30") == [
        ("C1", "locked", D("40.00"), D("40.00"), "2026-09-12", "past due 40.00 USD since 2026-09-12", "2026-10-01"),
        ("C2", "trial", D("0.00"), D("0.00"), None, "trial until 2026-10-10", "2026-10-10"),
        ("C3", "cancelled", D("100.00"), D("100.00"), None, "cancelled on 2026-09-20", "2026-10-01"),
        ("C4", "active", D("100.00"), D("100.00"), None, None, "2026-10-01"),
    ]
    payments = [_payment("P1", "C1", "2026-09-05T10:00:00Z", "60.00"),
                _payment("P2", "C1", "2026-10-05T10:00:00Z", "40.00"),
                _payment("P3", "C1", "2026-10-20T10:00:00Z", "100.00")]
    ex2 = _extracts(tmp_path / "ex2", payments)
    # the nights of 10-01 (October's invoice, due 10-11) and 10-15 (P2 has paid September)
    run_night(ex2, wh, date(2026, 10, 1), datetime(2026, 10, 2, 2), validate=False)
    assert _status(wh, "2026-10-01")[0][:4] == ("C1", "locked", D("140.00"), D("40.00"))
    run_night(ex2, wh, date(2026, 10, 15), datetime(2026, 10, 16, 2), validate=False)
    assert _status(wh, "2026-10-15")[0] == (
        "C1", "locked", D("100.00"), D("100.00"), "2026-10-12", "past due 100.00 USD since 2026-10-12", "2026-11-01")
    bill(ex2, wh, "2026-10", second=5)
    assert _status(wh, "2026-10-31")[0] == ("C1", "active", D("0.00"), D("0.00"), None, None, "2026-11-01")
    assert query(wh, "select entry_type, amount, balance_after from ledger where client_id = 'C1' "
                     "order by entry_at, entry_id") == [
        ("invoice", D("100.00"), D("100.00")),
        ("payment", D("-60.00"), D("40.00")),
        ("invoice", D("100.00"), D("140.00")),
        ("payment", D("-40.00"), D("100.00")),
        ("payment", D("-100.00"), D("0.00")),
    ]


def test_the_ledger_of_every_client_reconciles_with_its_balance(tmp_path):
    wh = tmp_path / "wh"
    ex = _extracts(tmp_path / "ex", [_payment("P1", "C1", "2026-09-05T10:00:00Z", "60.00")])
    for second, period in enumerate(("2026-09", "2026-10")):
        bill(ex, wh, period, second=second)
    rows = query(wh, """
        with last as (select client_id, arg_max(balance_after, (entry_at, entry_id)) as last_balance,
                             sum(amount) as total from ledger group by client_id)
        select s.client_id, s.balance_owed, last.last_balance, last.total
        from account_status s join last using (client_id) where s.as_of = '2026-10-31' order by 1""")
    assert rows and all(owed == last == total for _, owed, last, total in rows)
    # invoices minus payments, by hand: C1 2 x 100 - 60; C3 cancelled after one fee; C2 fee from 10-10
    assert [(c, owed) for c, owed, _, _ in rows] == [
        ("C1", D("140.00")), ("C2", D("100.00")), ("C3", D("100.00")), ("C4", D("200.00"))]


def test_the_runs_ledger_is_emptied_before_the_status_after_a_charge_batch(tmp_path):
    """The status after a night's batch reads the ledger from the warehouse alone
    (pipeline.refresh_status): the run's own ledger keeps its columns and loses its rows, as
    a table in memory and as the view over its Parquet file in a work database, whose file is
    left as it is."""
    rows = "select 'LE-1' as entry_id, 12.50::decimal(18, 2) as amount union all select 'LE-2', -2.50"
    memory = models.connect()
    memory.execute(f"create table ledger as {rows}")
    work = models.connect(tmp_path / "work.duckdb")
    written = models.parquet_file(work, "ledger")
    work.execute(f"copy ({rows}) to '{written}' (format parquet)")
    models.view_parquet(work, "ledger")
    for con in (memory, work):
        assert con.execute("select sum(amount) from ledger").fetchone()[0] == D("10.00")
        models.emptied(con, "ledger")
        assert con.execute("select count(*) from ledger").fetchone()[0] == 0
        assert [c[:2] for c in con.execute("describe ledger").fetchall()] == [
            ("entry_id", "VARCHAR"), ("amount", "DECIMAL(18,2)")]
    assert work.execute(f"select count(*) from '{written}'").fetchone()[0] == 2
