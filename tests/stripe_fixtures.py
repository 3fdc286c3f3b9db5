"""localstripe on 127.0.0.1 for the charging tests: a module-scoped server, the processor
environment, and customers with saved cards made on it (card numbers never reach us)."""

import socket
import subprocess
import sys
import time

import pytest
import stripe

SECRET = "sk_test_do_not_leak_4f9a"
LOCALSTRIPE = """
import sys
from aiohttp import web
from localstripe import resources
resources.Store.dump_to_disk = lambda self: None          # no /tmp/localstripe.pickle
resources.Store.try_load_from_disk = lambda self: None

# Where localstripe falls short of Stripe, the fixture fills in (production code is unchanged):
# confirm takes `off_session` and `payment_method` (a retry of a declined PaymentIntent names
# the card again and is tried anew), and PaymentIntents can be listed by customer.
PaymentIntent = resources.PaymentIntent
confirm, list_all = PaymentIntent._api_confirm.__func__, PaymentIntent._api_list_all.__func__

def confirm_like_stripe(cls, id, payment_method=None, off_session=None, **kwargs):
    intent = cls._api_retrieve(id)
    if payment_method is not None and intent.status == "requires_payment_method":
        intent.payment_method, intent.latest_charge = payment_method, None
    return confirm(cls, id, **kwargs)

def list_by_customer(cls, url, customer=None, **kwargs):
    found = list_all(cls, url, **kwargs)
    if customer is not None:
        found._list = [intent for intent in found._list if intent.customer == customer]
    return found

PaymentIntent._api_confirm = classmethod(confirm_like_stripe)
PaymentIntent._api_list_all = classmethod(list_by_customer)
resources.extra_apis[:] = [(m, u, PaymentIntent._api_confirm if u.endswith("/confirm") and "payment_intents" in u
                            else f) for m, u, f in resources.extra_apis]
from localstripe import server
web.run_app(server.app, host="127.0.0.1", port=int(sys.argv[1]), print=None)
"""
ROUTING = "021000021"


@pytest.fixture(scope="module")
def fake_stripe(tmp_path_factory):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen([sys.executable, "-c", LOCALSTRIPE, str(port)], cwd=tmp_path_factory.mktemp("ls"),
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.1)
    yield f"http://127.0.0.1:{port}"
    server.terminate()
    server.wait(timeout=10)


@pytest.fixture
def stripe_env(fake_stripe, monkeypatch):
    monkeypatch.setenv("STRIPE_API_KEY", SECRET)
    monkeypatch.setenv("STRIPE_API_BASE", fake_stripe)
    monkeypatch.setenv("ACH_ORIGIN_ROUTING", "091000019")
    monkeypatch.setenv("ACH_COMPANY_ID", "1234567890")
    monkeypatch.setenv("ACH_COMPANY_NAME", "Acme CRM Partners")
    return stripe.StripeClient(SECRET, base_addresses={"api": fake_stripe}).v1


def customer(api, card: str) -> str:
    """A customer with a saved card, made on the fake server (the card never reaches us)."""
    customer = api.customers.create({"email": "billing@example.com"})
    method = api.payment_methods.create({"type": "card", "card": {"number": card, "exp_month": 12,
                                                                  "exp_year": 2030, "cvc": "123"}})
    api.payment_methods.attach(method.id, {"customer": customer.id})
    return customer.id


