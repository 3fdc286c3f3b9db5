"""Charging when processors fail the way real ones do (issue "Charging: money taken must be
recorded"; billing-rules.md section 9): one bad charge never stops the batch, a payment left
half-done is completed exactly once, a retry is a new attempt under its own key, and a charge
waits for the batch of its date."""

import urllib.parse
import urllib.request
from datetime import date, datetime
from types import SimpleNamespace

import pytest
import stripe
from helpers import D, bill, client, price, query, write_extracts
from stripe_fixtures import SECRET, customer, fake_stripe, stripe_env  # noqa: F401

from transforms import charging
from transforms.processors import StripeProcessor

GOOD_CARD = "4242424242424242"


def _billed(tmp_path, clients, period="2026-10", as_of=None, bill_day=1):
    ex = write_extracts(tmp_path / "ex", {
        "resellers": [{"reseller_id": "R1", "name": "R1", "currency": "USD", "net_days": "10"}],
        "clients": clients,
        "pricing": [price("account", cycle_fee="100.00", lockout_when_owing=True)],
    })
    wh = tmp_path / "wh"
    bill(ex, wh, period, as_of=as_of)
    return wh


def _status(wh) -> dict[str, tuple]:
    return {c: (s, a) for c, s, a in query(wh, "select client_id, status, attempts from charges")}


def _payments(wh) -> list[tuple]:
    return query(wh, "select client_id, amount from ledger where entry_type = 'charge_payment' order by client_id")


def _intents_of(api, customer_id: str) -> list:
    return [pi for pi in api.payment_intents.list({"limit": 100}).data if pi.customer == customer_id]


# --- defect 1: one bad charge never stops the batch ----------------------------------------------

def test_an_unknown_customer_mid_batch_is_declined_and_the_others_are_paid_and_recorded(tmp_path, stripe_env):
    first, last = customer(stripe_env, GOOD_CARD), customer(stripe_env, GOOD_CARD)
    wh = _billed(tmp_path, [
        client("U1", processor="stripe", processor_customer_ref=first),
        client("U2", processor="stripe", processor_customer_ref="cus_unknown_to_stripe"),
        client("U3", processor="stripe", processor_customer_ref=last),
    ])
    result = charging.submit(wh, date(2026, 10, 1), datetime(2026, 10, 1, 23, 0))
    assert (result.sent, result.succeeded, result.declined, result.errors) == (3, 2, 1, 0)
    assert _status(wh) == {"U1": ("succeeded", 1), "U2": ("declined", 1), "U3": ("succeeded", 1)}
    assert _payments(wh) == [("U1", D("-100.00")), ("U3", D("-100.00"))]
    (message,) = query(wh, "select a.message from charge_attempts a join charges c using (charge_id) "
                           "where c.client_id = 'U2' and a.outcome = 'declined'")[0]
    assert message == "stripe refused: InvalidRequestError: Not Found"  # the processor's reason (localstripe's words)
    for ref in (first, last):
        assert [(pi.amount, pi.status) for pi in _intents_of(stripe_env, ref)] == [(10000, "succeeded")]

    # the next batch sends nothing new; the decline is retried on its day, and fails again alone
    assert charging.submit(wh, date(2026, 10, 1), datetime(2026, 10, 1, 23, 30)).sent == 0
    again = charging.submit(wh, date(2026, 10, 2), datetime(2026, 10, 2, 23, 0))
    assert (again.sent, again.declined) == (1, 1)
    assert _status(wh)["U2"] == ("declined", 2) and len(_payments(wh)) == 2


def test_a_batch_that_cannot_go_on_says_what_it_kept(tmp_path, stripe_env, monkeypatch):
    """An error that is not one charge's (here: the log itself failing) stops the batch; what
    was recorded before it stays, and the next batch reconciles the rest."""
    ref = customer(stripe_env, GOOD_CARD)
    wh = _billed(tmp_path, [client("S1", processor="stripe", processor_customer_ref=ref)])
    real_record = charging._AttemptLog.record

    def record(self, row, attempt_no, outcome, reference, message):
        if outcome == "succeeded":
            raise OSError(28, "No space left on device")
        real_record(self, row, attempt_no, outcome, reference, message)

    with monkeypatch.context() as patched, pytest.raises(OSError):
        patched.setattr(charging._AttemptLog, "record", record)
        charging.submit(wh, date(2026, 10, 1), datetime(2026, 10, 1, 23, 0))
    again = charging.submit(wh, date(2026, 10, 1), datetime(2026, 10, 1, 23, 30))
    assert (again.reconciled, again.sent, again.succeeded) == (1, 0, 1)
    assert _status(wh) == {"S1": ("succeeded", 1)}
    assert len(_intents_of(stripe_env, ref)) == 1 and _payments(wh) == [("S1", D("-100.00"))]


# --- defect 2: a payment left half-done is completed, exactly once -------------------------------

class _Services:
    """The SDK's v1 services, with PaymentIntent confirmation replaced by `confirm`."""

    def __init__(self, real, confirm):
        self._real, self.payment_intents = real, SimpleNamespace(
            create=real.payment_intents.create, retrieve=real.payment_intents.retrieve,
            list=real.payment_intents.list, confirm=confirm)
        self.payment_methods = real.payment_methods


@pytest.mark.parametrize("failure", ["killed", "network"])
def test_a_submit_stopped_between_create_and_confirm_is_completed_by_the_next(tmp_path, stripe_env, failure):
    ref = customer(stripe_env, GOOD_CARD)
    wh = _billed(tmp_path, [client("H1", processor="stripe", processor_customer_ref=ref)])

    def confirm(*args, **kwargs):
        if failure == "killed":
            raise SystemExit("killed after the PaymentIntent was created, before it was confirmed")
        raise stripe.APIConnectionError("connection reset")

    half = {"stripe": lambda: StripeProcessor(client=_Services(stripe_env, confirm))}
    if failure == "killed":
        with pytest.raises(SystemExit):
            charging.submit(wh, date(2026, 10, 1), datetime(2026, 10, 1, 23, 0), processors=half)
    else:
        assert charging.submit(wh, date(2026, 10, 1), datetime(2026, 10, 1, 23, 0), processors=half).errors == 1
    (intent,) = _intents_of(stripe_env, ref)
    assert intent.status == "requires_confirmation"

    again = charging.submit(wh, date(2026, 10, 1), datetime(2026, 10, 1, 23, 30))
    assert (again.sent, again.succeeded) == (1, 1)  # completed: confirmed, not created anew
    assert [(pi.id, pi.status) for pi in _intents_of(stripe_env, ref)] == [(intent.id, "succeeded")]
    assert _status(wh) == {"H1": ("succeeded", 1)}
    assert _payments(wh) == [("H1", D("-100.00"))]
    assert charging.submit(wh, date(2026, 10, 2), datetime(2026, 10, 2, 23, 0)).sent == 0
    assert _payments(wh) == [("H1", D("-100.00"))]


def test_a_card_still_processing_reaches_the_ledger_once_when_it_ends(tmp_path, stripe_env, fake_stripe):
    """A 3-D Secure card leaves the PaymentIntent `requires_action`: the charge is
    pending_confirmation, owes nothing to the ledger yet, and the batch after the customer
    authenticates applies the payment once."""
    ref = customer(stripe_env, "4000002760003184")
    wh = _billed(tmp_path, [client("P1", processor="stripe", processor_customer_ref=ref)])
    first = charging.submit(wh, date(2026, 10, 1), datetime(2026, 10, 1, 23, 0))
    assert (first.sent, first.waiting) == (1, 1)
    assert _status(wh) == {"P1": ("pending_confirmation", 1)} and _payments(wh) == []
    assert charging.submit(wh, date(2026, 10, 2), datetime(2026, 10, 2, 23, 0)).sent == 0  # asked, still waiting
    assert _status(wh) == {"P1": ("pending_confirmation", 1)}

    (intent,) = _intents_of(stripe_env, ref)
    _authenticate(fake_stripe, intent)
    done = charging.submit(wh, date(2026, 10, 3), datetime(2026, 10, 3, 23, 0), sync_only=True)  # charges sync
    assert (done.sent, done.succeeded, done.reconciled) == (0, 1, 1)
    assert _status(wh) == {"P1": ("succeeded", 1)} and _payments(wh) == [("P1", D("-100.00"))]
    charging.submit(wh, date(2026, 10, 4), datetime(2026, 10, 4, 23, 0))
    assert _payments(wh) == [("P1", D("-100.00"))]


def _authenticate(server: str, intent) -> None:
    """localstripe's stand-in for the customer finishing 3-D Secure."""
    body = urllib.parse.urlencode({"client_secret": intent.client_secret, "success": "true"}).encode()
    request = urllib.request.Request(f"{server}/v1/payment_intents/{intent.id}/_authenticate", data=body,
                                     headers={"Authorization": f"Bearer {SECRET}"})
    with urllib.request.urlopen(request, timeout=10) as answer:
        assert answer.status == 200


# --- defect 3: a retry is a new attempt under its own key -----------------------------------------

class _Replaying:
    """A stand-in for Stripe's PaymentIntents with Stripe's key semantics: a request repeated
    under a key it has seen gets the stored answer back (an error included) without touching
    the card. The card declines its first `declines` tries. PaymentIntents are listed only by
    customer (an account-wide listing is refused, as it would not scale)."""

    def __init__(self, declines: int):
        self.declines, self.card_tries, self.keys, self.intents, self.answers = declines, 0, [], {}, {}
        self.payment_intents = SimpleNamespace(create=self.create, confirm=self.confirm, retrieve=self.retrieve,
                                               list=self.list)
        self.payment_methods = SimpleNamespace(list=lambda params: SimpleNamespace(data=[SimpleNamespace(id="pm_1")]))

    def _replayed(self, key: str, act):
        self.keys.append(key)
        if key not in self.answers:
            try:
                self.answers[key] = ("ok", act())
            except stripe.CardError as error:
                self.answers[key] = ("error", error)
        kind, answer = self.answers[key]
        if kind == "error":
            raise answer
        return SimpleNamespace(**vars(answer))  # a snapshot, as a stored response is

    def create(self, params, options):
        def act():
            intent = SimpleNamespace(id=f"pi_{len(self.intents) + 1}", status="requires_confirmation",
                                     customer=params["customer"], last_payment_error=None,
                                     metadata=SimpleNamespace(to_dict=lambda: dict(params["metadata"])))
            self.intents[intent.id] = intent
            return intent
        return self._replayed(options["idempotency_key"], act)

    def confirm(self, intent_id, params, options):
        def act():
            intent = self.intents[intent_id]
            self.card_tries += 1
            if self.card_tries <= self.declines:
                intent.status, intent.last_payment_error = "requires_payment_method", {"code": "card_declined"}
                raise stripe.CardError("Your card was declined.", None, "card_declined")
            intent.status = "succeeded"
            return intent
        return self._replayed(options["idempotency_key"], act)

    def retrieve(self, intent_id):
        return SimpleNamespace(**vars(self.intents[intent_id]))

    def list(self, params):
        assert "customer" in params, "a look-up lists one customer's PaymentIntents, never the account's"
        data = [SimpleNamespace(**vars(i)) for i in self.intents.values() if i.customer == params["customer"]]
        return SimpleNamespace(data=data, has_more=False)


def test_a_retried_decline_is_a_new_attempt_that_reaches_the_card_again(tmp_path):
    wh = _billed(tmp_path, [client("D1", processor="stripe", processor_customer_ref="cus_D1")])
    stub = _Replaying(declines=1)
    processors = {"stripe": lambda: StripeProcessor(client=stub)}
    first = charging.submit(wh, date(2026, 10, 1), datetime(2026, 10, 1, 23, 0), processors=processors)
    assert first.declined == 1 and _status(wh) == {"D1": ("declined", 1)}

    retried = charging.submit(wh, date(2026, 10, 2), datetime(2026, 10, 2, 23, 0), processors=processors)
    assert retried.succeeded == 1 and stub.card_tries == 2
    (key,) = query(wh, "select idempotency_key from charges")[0]
    assert stub.keys == [key, f"{key}-attempt-1", f"{key}-attempt-2"]  # one PaymentIntent, two attempts
    assert list(stub.intents) == ["pi_1"]
    assert _status(wh) == {"D1": ("succeeded", 2)} and _payments(wh) == [("D1", D("-100.00"))]


def test_a_crashed_attempt_is_looked_up_by_customer_and_completed(tmp_path):
    """In flight with no id recorded: the PaymentIntent is found among the customer's."""
    wh = _billed(tmp_path, [client("L1", processor="stripe", processor_customer_ref="cus_L1")])
    stub = _Replaying(declines=0)

    class _DiesAfterCreate(StripeProcessor):
        def charge(self, charge, attempt_no=1):
            self._client.payment_intents.create(
                {"amount": 10000, "currency": "usd", "customer": "cus_L1", "payment_method": "pm_1",
                 "metadata": {"idempotency_key": charge.idempotency_key}},
                {"idempotency_key": charge.idempotency_key})
            raise SystemExit("killed")

    with pytest.raises(SystemExit):
        charging.submit(wh, date(2026, 10, 1), datetime(2026, 10, 1, 23, 0),
                        processors={"stripe": lambda: _DiesAfterCreate(client=stub)})
    done = charging.submit(wh, date(2026, 10, 1), datetime(2026, 10, 1, 23, 30),
                           processors={"stripe": lambda: StripeProcessor(client=stub)})
    assert done.succeeded == 1 and stub.card_tries == 1 and list(stub.intents) == ["pi_1"]
    assert _payments(wh) == [("L1", D("-100.00"))]


# --- defect 4: a charge waits for the batch of its date -------------------------------------------

def test_a_charge_is_sent_in_the_batch_of_its_invoice_date_never_earlier(tmp_path):
    wh = _billed(tmp_path, [client("F1", processor="stripe", processor_customer_ref="cus_F1", bill_day=28)],
                 period="2026-11", as_of=date(2026, 11, 26))
    assert query(wh, "select invoice_date::varchar from invoices") == [("2026-11-28",)]
    stub = _Replaying(declines=0)
    processors = {"stripe": lambda: StripeProcessor(client=stub)}
    early = charging.submit(wh, date(2026, 11, 26), datetime(2026, 11, 26, 23, 0), processors=processors)
    assert early.sent == 0 and stub.keys == [] and _status(wh) == {"F1": ("pending", 0)}
    assert charging.submit(wh, date(2026, 11, 27), datetime(2026, 11, 27, 23, 0), processors=processors).sent == 0
    on_the_day = charging.submit(wh, date(2026, 11, 28), datetime(2026, 11, 28, 23, 0), processors=processors)
    assert (on_the_day.sent, on_the_day.succeeded) == (1, 1)
