"""Property (billing-rules.md section 8): however the extracts are corrected between
re-runs, the sum of all revisions of the period equals a fresh bill of the final extracts,
line by line. Examples: HYPOTHESIS_EXAMPLES (default 40; the closing note records a run
with 300)."""

import os
import tempfile
from datetime import date, datetime
from pathlib import Path

from helpers import R1, client, price, query, usage, write_extracts
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from transforms.pipeline import run_period

CLIENTS = ("C1", "C2")
ITEMS = ("sms", "emails", "users")
BASE_PRICES = [
    price("sms", metered=True, unit_fee="0.05", included_units=10, min_units=5),
    price("emails", cycle_fee="5.00", included_units=100, metered=False, overage_fee="0.01"),
    price("users", metered=True, unit_fee="2.00", included_units=1),
    price("users", level="group", group_id="G1", unit_fee="1.50"),
]

event = st.tuples(st.sampled_from(CLIENTS), st.sampled_from(ITEMS), st.integers(1, 60), st.integers(0, 300))
price_change = st.tuples(
    st.sampled_from(ITEMS), st.sampled_from(["0.02", "0.05", "1.25", "3.00"]),
    st.sampled_from(["2026-08-01", "2026-09-01", "2026-09-15", "2026-10-01"]),
)
correction = st.one_of(
    st.tuples(st.just("add"), event),
    st.tuples(st.just("delete"), st.integers(0, 50)),
    st.tuples(st.just("price"), price_change),
)


def _event_row(n: int, spec) -> dict:
    client_id, item, day, quantity = spec  # day 1..60 counts from 2026-08-15
    occurred = date.fromordinal(date(2026, 8, 14).toordinal() + day)
    return usage(f"ev{n}", client_id, item, f"{occurred}T12:00:00Z", quantity)


def _write(folder: Path, events: list[dict], prices: list[dict]) -> Path:
    return write_extracts(folder, {
        "resellers": [R1], "groups": [{"reseller_id": "R1", "group_id": "G1"}],
        "clients": [client("C1"), client("C2", "G1")], "pricing": prices, "usage_events": events,
    })


def _bill(extracts: Path, warehouse: Path, step: int) -> None:
    run_period(extracts, warehouse, "2026-10", date(2026, 10, 1 + step), datetime(2026, 10, 1 + step),
               validate=False)


def _state(warehouse: Path, view: str) -> list[tuple]:
    return query(warehouse, f"select client_id, item_code, line_type, sum(quantity), sum(amount) from {view} "
                            "group by all having sum(quantity) <> 0 or sum(amount) <> 0 order by all")


@settings(max_examples=int(os.environ.get("HYPOTHESIS_EXAMPLES", "40")), deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(initial=st.lists(event, min_size=1, max_size=8),
       batches=st.lists(st.lists(correction, min_size=1, max_size=3), min_size=1, max_size=3))
def test_revisions_sum_to_a_fresh_bill_of_the_final_extracts(initial, batches):
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        events = [_event_row(n, spec) for n, spec in enumerate(initial)]
        prices = list(BASE_PRICES)
        wh = root / "wh"
        _bill(_write(root / "ex0", events, prices), wh, 0)
        for step, batch in enumerate(batches, start=1):
            for kind, detail in batch:
                if kind == "add":
                    events.append(_event_row(100 * step + len(events), detail))
                elif kind == "delete" and events:
                    events.pop(detail % len(events))
                elif kind == "price":
                    item, fee, since = detail
                    option = "overage_fee" if item == "emails" else "unit_fee"
                    base = next(p for p in BASE_PRICES if p["item_code"] == item and p["level"] == "account")
                    prices = [p for p in prices if not (p["item_code"] == item and p["effective_from"] == since
                                                        and p["level"] == "account")]
                    prices.append({**base, "effective_from": since, option: fee})
            _bill(_write(root / f"ex{step}", events, prices), wh, step)
        fresh = root / "fresh"
        _bill(_write(root / "final", events, prices), fresh, 0)
        assert _state(wh, "invoice_lines_current") == _state(fresh, "invoice_lines")
