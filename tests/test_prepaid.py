"""Prepaid clients and replenishment (billing-rules.md section 6), hand-worked."""

from datetime import date, datetime

from helpers import R1, D, bill, client, price, query, usage, write_extracts

from transforms.pipeline import run_night


def _e7(folder, extra_pricing=(), extra_events=(), lead_sales=()):
    return write_extracts(folder, {
        "resellers": [{**R1, "lead_price_level": "standard"}],
        "clients": [client("C6")],
        "pricing": [
            price("account", level="client", client_id="C6", replenishment_amount="50.00"),
            price("phone_validation", metered=True, unit_fee="0.04"),
            *extra_pricing,
        ],
        "usage_events": [
            usage("p1", "C6", "phone_validation", "2026-10-03T09:00:00Z", 300),
            usage("p2", "C6", "phone_validation", "2026-10-04T09:00:00Z", 2250),
            usage("p3", "C6", "phone_validation", "2026-10-20T09:00:00Z", 100),
            *extra_events,
        ],
        "lead_price_levels": [{"reseller_id": "R1", "level_code": "standard", "price": "7.00",
                               "effective_from": "2026-01-01"}],
        "lead_sales": list(lead_sales),
    })


def _invoices(wh, kind):
    return query(wh, "select invoice_date::varchar, total from invoices where kind = $k order by invoice_date",
                 {"k": kind})


def test_e7_prepaid_drawdown_and_replenishment(tmp_path):
    wh = tmp_path / "wh"
    ex = _e7(tmp_path / "ex")
    for second, period in enumerate(("2026-10", "2026-11")):
        bill(ex, wh, period, second=second)
    assert _invoices(wh, "replenishment") == [("2026-10-03", D("50.00")), ("2026-10-04", D("100.00"))]
    assert query(wh, "select quantity, unit_price from invoice_lines where line_type = 'replenishment' "
                     "order by invoice_date") == [(D("1"), D("50.00")), (D("2"), D("50.00"))]
    balances = query(wh, "select entry_at::date::varchar, entry_type, prepaid_amount, prepaid_balance_after "
                         "from ledger where entry_type like 'prepaid%' order by entry_at")
    assert balances == [
        ("2026-10-03", "prepaid_topup", D("50.00"), D("50.00")),
        ("2026-10-03", "prepaid_drawdown", D("-12.00"), D("38.00")),
        ("2026-10-04", "prepaid_topup", D("100.00"), D("138.00")),
        ("2026-10-04", "prepaid_drawdown", D("-90.00"), D("48.00")),
        ("2026-10-20", "prepaid_drawdown", D("-4.00"), D("44.00")),
    ]
    assert query(wh, "select line_type, quantity, amount from invoice_lines where invoice_date = '2026-11-01' "
                     "order by line_no") == [("usage", D("2650"), D("106.00")), ("prepaid_applied", D("1"), D("-106.00"))]
    assert query(wh, "select prepaid_balance, balance_owed from account_status where as_of = '2026-10-31'") == [
        (D("44.00"), D("150.00"))
    ]


def test_the_nightly_runs_draw_the_same_as_the_period_run(tmp_path):
    ex = _e7(tmp_path / "ex")
    nightly = tmp_path / "nightly"
    for day in range(1, 32):
        run_night(ex, nightly, date(2026, 10, day), datetime(2026, 11, 1, 0, 0, day), validate=False)
    period = tmp_path / "period"
    bill(ex, period, "2026-10")
    sql = "select invoice_id, kind, invoice_date, total from invoices order by all"
    assert query(nightly, sql) == query(period, sql) != []
    assert query(nightly, "select prepaid_balance from account_status where as_of = '2026-10-31'") == [(D("44.00"),)]


def test_prepaid_leads_draw_from_the_balance_and_allotments_go_first(tmp_path):
    # included 1000: the 300 on 10-03 and 700 of the 2,250 on 10-04 are free -> 10-04 draws
    # 1,550 x 0.04 = 62.00 plus a 7.00 lead: C = 69 -> 2 increments; 10-20: 4.00 -> C = 73.
    wh = tmp_path / "wh"
    ex = _e7(tmp_path / "ex", extra_pricing=[price("phone_validation", level="client", client_id="C6",
                                                  included_units=1000)],
             lead_sales=[{"reseller_id": "R1", "sale_id": "s1", "client_id": "C6", "lead_type": "solar",
                          "sold_at": "2026-10-04T12:00:00Z"}])
    for second, period in enumerate(("2026-10", "2026-11")):
        bill(ex, wh, period, second=second)
    assert _invoices(wh, "replenishment") == [("2026-10-04", D("100.00"))]
    assert query(wh, "select kind, total from invoices where invoice_date = '2026-10-04' order by kind") == [
        ("leads", D("0.00")), ("replenishment", D("100.00"))]
    assert query(wh, "select line_type, amount from invoice_lines where invoice_date = '2026-11-01' "
                     "order by line_no") == [("usage", D("66.00")), ("prepaid_applied", D("-66.00"))]
    assert query(wh, "select prepaid_balance from account_status where as_of = '2026-10-31'") == [(D("27.00"),)]


def test_a_prepaid_balance_carries_draws_from_months_long_past_and_without_usage(tmp_path):
    # bill_day 15: cycle 2's window is [02-15, 03-15), cycle 3's [03-15, 04-15), cycle 10's
    # [10-15, 11-15); no usage in cycles 4-9 and no minimum. sms at 0.05: 03-14 23:59:59 400
    # -> 20.00 (C 20, 1 top-up of 50), 03-15 00:00 800 -> 40.00 (C 60, 2 top-ups), 10-20 700
    # -> 35.00 (C 95, still 2): no replenishment in October. Leaving out either March day
    # would make 10-20 buy one more top-up (C 55 or 75 against one top-up of 50).
    ex = write_extracts(tmp_path / "ex", {
        "resellers": [R1],
        "clients": [client("C7", bill_day=15)],
        "pricing": [
            price("account", level="client", client_id="C7", replenishment_amount="50.00"),
            price("sms", metered=True, unit_fee="0.05"),
        ],
        "usage_events": [
            usage("s1", "C7", "sms", "2026-03-14T23:59:59Z", 400),
            usage("s2", "C7", "sms", "2026-03-15T00:00:00Z", 800),
            usage("s3", "C7", "sms", "2026-10-20T00:00:00Z", 700),
        ],
    })
    wh = tmp_path / "wh"
    bill(ex, wh, "2026-10")
    assert _invoices(wh, "replenishment") == []
    assert query(wh, "select entry_at::date::varchar, entry_type, prepaid_amount from ledger "
                     "where entry_type like 'prepaid%' order by entry_at") == [
        ("2026-10-20", "prepaid_drawdown", D("-35.00"))
    ]
