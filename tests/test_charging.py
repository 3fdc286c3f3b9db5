"""Charging (billing-rules.md section 9) against localstripe on 127.0.0.1 and a NACHA
parser: each processor path, decline -> retry -> lock-out, crash-and-resubmit -> exactly one
payment, no negative charge, no secret in outputs."""

from datetime import date, datetime

import achkit
import pytest
from helpers import D, bill, client, price, query, write_extracts
from stripe_fixtures import ROUTING, SECRET, fake_stripe, stripe_env  # noqa: F401
from stripe_fixtures import customer as _customer

from transforms import charging
from transforms.pipeline import run_night
from transforms.processors import StripeProcessor


def _intents(api, key: str) -> list:
    return [pi for pi in api.payment_intents.list({"limit": 100}).data
            if pi.metadata and pi.metadata.to_dict().get("idempotency_key") == key]


def _billed(tmp_path, clients):
    ex = write_extracts(tmp_path / "ex", {
        "resellers": [{"reseller_id": "R1", "name": "R1", "currency": "USD", "net_days": "10"}],
        "clients": clients,
        "pricing": [price("account", cycle_fee="100.00", lockout_when_owing=True)],
    })
    wh = tmp_path / "wh"
    bill(ex, wh, "2026-10")
    return ex, wh


def _charges(wh):
    return dict(query(wh, "select client_id, status from charges"))


def test_stripe_ach_and_manual_paths_decline_retry_and_lock_out(tmp_path, stripe_env, capsys):
    good, bad = _customer(stripe_env, "4242424242424242"), _customer(stripe_env, "4000000000000341")
    ex, wh = _billed(tmp_path, [
        client("C1", processor="stripe", processor_customer_ref=good),
        client("C2", processor="stripe", processor_customer_ref=bad),
        client("C3", processor="ach", processor_customer_ref=f"{ROUTING}-12345678"),
        client("C4"),
    ])
    assert set(_charges(wh)) == {"C1", "C2", "C3"}  # the manual client gets no charge
    result = charging.submit(wh, date(2026, 10, 1), datetime(2026, 10, 1, 23, 0))
    assert (result.succeeded, result.submitted, result.declined, result.errors) == (1, 1, 1, 0)
    # the ACH debit is in a file: submitted (paid on the ledger that day), succeeded after 5 banking days
    assert _charges(wh) == {"C1": "succeeded", "C2": "declined", "C3": "submitted"}
    (key,) = query(wh, "select idempotency_key from charges where client_id = 'C1'")[0]
    assert [(pi.amount, pi.status) for pi in _intents(stripe_env, key)] == [(10000, "succeeded")]
    assert query(wh, "select client_id, entry_type, amount from ledger where entry_type = 'charge_payment' "
                     "order by client_id") == [("C1", "charge_payment", D("-100.00")), ("C3", "charge_payment", D("-100.00"))]

    (ach_file,) = list((wh / "ach").glob("*.ach"))
    text = ach_file.read_text()
    assert achkit.validate(text) == {"ok": True, "errors": []}
    (batch,) = achkit.parse(text)["batches"]
    assert [(e["routing"], e["amount_cents"], e["txn_code"]) for e in batch["entries"]] == [(ROUTING, 10000, 27)]

    # a declined charge counts as owing: C2 is locked the next night, C1 (paid) is not
    run_night(ex, wh, date(2026, 10, 2), datetime(2026, 10, 3, 2), validate=False)
    status = dict(query(wh, "select client_id, status from account_status where as_of = '2026-10-02'"))
    assert (status["C1"], status["C2"]) == ("active", "locked")

    # retried 1 day after the first decline, 3 days after the second
    assert charging.submit(wh, date(2026, 10, 1), datetime(2026, 10, 1, 23, 30)).sent == 0
    assert charging.submit(wh, date(2026, 10, 2), datetime(2026, 10, 2, 23, 0)).declined == 1
    assert charging.submit(wh, date(2026, 10, 4), datetime(2026, 10, 4, 23, 0)).sent == 0
    assert charging.submit(wh, date(2026, 10, 5), datetime(2026, 10, 5, 23, 0)).declined == 1
    assert query(wh, "select attempts, status from charges where client_id = 'C2'") == [(3, "declined")]

    # no secret anywhere in the warehouse or the output; no charge of 0 or less was ever sent
    for path in wh.rglob("*"):
        if path.is_file():
            assert SECRET.encode() not in path.read_bytes(), path
    captured = capsys.readouterr()
    assert SECRET not in captured.out + captured.err
    assert all(pi.amount > 0 for pi in stripe_env.payment_intents.list({"limit": 100}).data)


class _Flaky:
    """A Stripe adapter that loses the network on one charge, or dies after one request."""

    def __init__(self, fail_on: int, crash: bool):
        self.inner, self.calls, self.fail_on, self.crash = StripeProcessor(), 0, fail_on, crash

    def find(self, charge):
        return self.inner.find(charge)

    def charge(self, charge, attempt_no=1):
        self.calls += 1
        if self.calls == self.fail_on and not self.crash:
            raise charging.ProcessorUnavailable("stripe unreachable: APIConnectionError")
        outcome = self.inner.charge(charge, attempt_no)
        if self.calls == self.fail_on:
            raise SystemExit("killed after the request, before recording it")
        return outcome


@pytest.mark.parametrize("crash", [False, True], ids=["network-failure-mid-batch", "crash-after-request"])
def test_a_resubmitted_batch_never_charges_twice(tmp_path, stripe_env, crash):
    # the fake server lives for the whole module: client ids of their own keep the
    # idempotency keys (derived from invoice ids) apart from the other tests'
    refs = [_customer(stripe_env, "4242424242424242") for _ in range(3)]
    prefix = "K" if crash else "N"
    _, wh = _billed(tmp_path, [client(f"{prefix}{i}", processor="stripe", processor_customer_ref=ref)
                               for i, ref in enumerate(refs, start=1)])
    flaky = {"stripe": lambda: _Flaky(fail_on=2, crash=crash)}
    if crash:
        with pytest.raises(SystemExit):
            charging.submit(wh, date(2026, 10, 1), datetime(2026, 10, 1, 23, 0), processors=flaky)
    else:
        assert charging.submit(wh, date(2026, 10, 1), datetime(2026, 10, 1, 23, 0), processors=flaky).errors == 1
    again = charging.submit(wh, date(2026, 10, 1), datetime(2026, 10, 1, 23, 30))
    if crash:  # charge 2 was paid but not recorded: found at the processor, not sent; charge 3 sent
        assert (again.reconciled, again.sent, again.succeeded) == (1, 1, 2)
    else:  # charge 2 never reached the processor: looked up, not found, sent
        assert (again.reconciled, again.sent, again.succeeded) == (0, 1, 1)
    assert set(_charges(wh).values()) == {"succeeded"}
    for (key,) in query(wh, "select idempotency_key from charges"):
        assert len(_intents(stripe_env, key)) == 1, key
    assert query(wh, "select count(*), sum(amount) from ledger where entry_type = 'charge_payment'") == [
        (3, D("-300.00"))]


def test_manual_clients_get_an_invoice_document_and_no_charge(tmp_path):
    from transforms import documents

    _, wh = _billed(tmp_path, [client("M1")])
    assert query(wh, "select count(*) from charges") == [(0,)]
    (page,) = documents.write_documents(wh)
    html = page.read_text()
    (invoice_id,) = query(wh, "select invoice_id from invoices")[0]
    assert page.name == f"{invoice_id}-r1.html" and html.startswith("<!doctype html>")
    assert page.parent == wh / "documents" / "reseller_id=R1" / "period=2026-10"
    for expected in ("Account Defaults - cycle fee 2026-10-01 to 2026-11-01", "cycle_fee=account", "due 2026-10-11",
                     "<b>100.00 USD</b>"):
        assert expected in html, expected
    assert documents.write_documents(wh) == []  # written once


def test_processors_get_amounts_in_the_currency_smallest_unit(tmp_path):
    """12.34 USD is 1234 cents; 1500 JPY is 1500 yen (JPY has no minor unit); the currency's
    decimals come from the stg_currency_minor_units seed."""
    from decimal import Decimal

    from transforms import models, warehouse
    from transforms.processors import Charge, minor_units

    con = models.connect()
    warehouse.load_prior(con, tmp_path / "empty-warehouse", "*")
    models.build_model(con, "stg_currency_minor_units")
    # two charges as if published (prior_all_charges is a view over the warehouse's files)
    con.execute("create table published_charges as select * from prior_all_charges")
    con.execute("insert into published_charges (charge_id, processor, currency, amount) values "
                "('CH-USD', 'stripe', 'USD', 12.34), ('CH-JPY', 'stripe', 'JPY', 1500)")
    con.execute("create or replace view prior_all_charges as select * from published_charges")
    due = con.execute((charging.SQL_DIR / "charges_due.sql").read_text(), {"processor": None, "today": date(2026, 10, 1), "sync_only": None})
    columns = [c[0] for c in due.description]
    rows = {row["charge_id"]: row for row in (dict(zip(columns, values)) for values in due.fetchall())}
    assert {charge_id: row["minor_unit"] for charge_id, row in rows.items()} == {"CH-USD": 2, "CH-JPY": 0}
    amounts = {
        charge_id: minor_units(Charge(charge_id, "key", "R1", "C1", "INV", 1, "cus", row["amount"], row["currency"],
                                      row["minor_unit"]))
        for charge_id, row in rows.items()
    }
    assert amounts == {"CH-USD": 1234, "CH-JPY": 1500}
    assert minor_units(Charge("CH", "key", "R1", "C1", "INV", 1, "cus", Decimal("0.05"), "EUR", 2)) == 5
