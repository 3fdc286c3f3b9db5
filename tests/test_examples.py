"""The worked examples of spec/examples.md, with their hand-computed values."""

from helpers import R1, D, bill, client, e2_tables, lines, price, query, usage, write_extracts


def test_e1_bundle_with_overage(tmp_path):
    ex = write_extracts(tmp_path / "ex", {
        "resellers": [R1],
        "clients": [client("C1")],
        "pricing": [price("emails", cycle_fee="20.00", included_units=10000, metered=False, overage_fee="0.0015")],
        "usage_events": [usage("e1", "C1", "emails", "2026-09-14T08:00:00Z", 12500)],
    })
    bill(ex, tmp_path / "wh", "2026-10")
    assert lines(tmp_path / "wh", "C1", "2026-10-01") == [
        ("emails", "cycle_fee", D("1"), D("20.00"), D("20.00")),
        ("emails", "overage", D("2500"), D("0.0015"), D("3.75")),
    ]
    assert query(tmp_path / "wh", "select total, subtotal, credits, kind, revision from invoices") == [
        (D("23.75"), D("23.75"), D("0.00"), "cycle", 1)
    ]


def test_e2_hierarchy_option_by_option(tmp_path):
    ex = write_extracts(tmp_path / "ex", e2_tables())
    wh = tmp_path / "wh"
    bill(ex, wh, "2026-10")
    assert lines(wh, "C2", "2026-10-01") == [("users", "usage", D("2"), D("20.00"), D("40.00"))]
    assert lines(wh, "C3", "2026-10-01") == [("users", "usage", D("4"), D("20.00"), D("80.00"))]
    assert lines(wh, "C4", "2026-10-01") == [("users", "usage", D("4"), D("25.00"), D("100.00"))]
    (source,) = query(wh, "select price_source from invoice_lines where client_id = 'C2'")[0]
    assert "unit_fee=group" in source and "included_units=client" in source and "metered=account" in source


def test_e3_maximum_and_minimum(tmp_path):
    ex = write_extracts(tmp_path / "ex", {
        "resellers": [R1],
        "clients": [client("C1"), client("C2")],
        "pricing": [price("sms", metered=True, unit_fee="0.05", max_units=1000, min_units=200)],
        "usage_events": [
            usage("s1", "C1", "sms", "2026-09-03T10:00:00Z", 700),
            usage("s2", "C1", "sms", "2026-09-20T10:00:00Z", 500),
            usage("s3", "C2", "sms", "2026-09-05T10:00:00Z", 50),
        ],
    })
    wh = tmp_path / "wh"
    bill(ex, wh, "2026-10")
    assert lines(wh, "C1", "2026-10-01") == [("sms", "usage", D("1000"), D("0.05"), D("50.00"))]
    assert lines(wh, "C2", "2026-10-01") == [
        ("sms", "usage", D("50"), D("0.05"), D("2.50")),
        ("sms", "minimum", D("150"), D("0.05"), D("7.50")),
    ]
    assert query(wh, "select quantity, blocked_units, billable_units from usage_summary where client_id = 'C1'") == [
        (D("1200"), D("200"), D("1000"))
    ]


def test_e4_bonus_pool_across_cycles(tmp_path):
    ex = write_extracts(tmp_path / "ex", {
        "resellers": [R1],
        "clients": [client("C1")],
        "pricing": [
            price("email_validation", metered=True, unit_fee="0.01", included_units=100),
            price("email_validation", level="client", client_id="C1", bonus_units=500),
        ],
        "usage_events": [
            usage("v8", "C1", "email_validation", "2026-08-15T00:00:00Z", 400),
            usage("v9", "C1", "email_validation", "2026-09-15T00:00:00Z", 600),
            usage("v10", "C1", "email_validation", "2026-10-15T00:00:00Z", 150),
        ],
    })
    wh = tmp_path / "wh"
    for second, period in enumerate(("2026-09", "2026-10", "2026-11")):
        bill(ex, wh, period, second=second)
    assert lines(wh, "C1", "2026-09-01") == []
    assert lines(wh, "C1", "2026-10-01") == [("email_validation", "usage", D("300"), D("0.01"), D("3.00"))]
    assert lines(wh, "C1", "2026-11-01") == [("email_validation", "usage", D("50"), D("0.01"), D("0.50"))]
    assert query(wh, """select bill_date::varchar, included_units_used, bonus_units_used, billable_units
                        from usage_summary where bill_date >= '2026-09-01' order by bill_date""") == [
        ("2026-09-01", D("100"), D("300"), D("0")),
        ("2026-10-01", D("100"), D("200"), D("300")),
        ("2026-11-01", D("100"), D("0"), D("50")),
    ]


def _e5_extracts(folder, trial_days):
    return write_extracts(folder, {
        "resellers": [R1],
        "clients": [client("C5", start="2026-09-10", bill_day=10)],
        "pricing": [
            price("account", cycle_fee="99.00", trial_days=trial_days),
            price("emails", metered=True, unit_fee="0.001", trial_days=trial_days),
        ],
        "usage_events": [
            usage("m1", "C5", "emails", "2026-09-20T09:00:00Z", 1000),
            usage("m2", "C5", "emails", "2026-10-05T09:00:00Z", 2000),
            usage("m3", "C5", "emails", "2026-10-12T09:00:00Z", 500),
        ],
    })


def test_e5_trial(tmp_path):
    ex = _e5_extracts(tmp_path / "ex", 30)
    wh = tmp_path / "wh"
    for second, period in enumerate(("2026-09", "2026-10", "2026-11")):
        bill(ex, wh, period, second=second)
    assert lines(wh, "C5", "2026-09-10") == []
    assert lines(wh, "C5", "2026-10-10") == [("account", "cycle_fee", D("1"), D("99.00"), D("99.00"))]
    assert query(wh, "select trial_units, quantity from usage_summary where bill_date = '2026-10-10'") == [
        (D("3000"), D("0"))
    ]
    assert lines(wh, "C5", "2026-11-10") == [
        ("account", "cycle_fee", D("1"), D("99.00"), D("99.00")),
        ("emails", "usage", D("500"), D("0.001"), D("0.50")),
    ]


def test_e5_trial_of_45_days_waives_the_second_fee_too(tmp_path):
    ex = _e5_extracts(tmp_path / "ex", 45)
    wh = tmp_path / "wh"
    for second, period in enumerate(("2026-09", "2026-10", "2026-11")):
        bill(ex, wh, period, second=second)
    assert lines(wh, "C5", "2026-10-10") == []
    assert lines(wh, "C5", "2026-11-10", "account") == [("account", "cycle_fee", D("1"), D("99.00"), D("99.00"))]


def test_e6_quarterly_cycle(tmp_path):
    ex = write_extracts(tmp_path / "ex", {
        "resellers": [R1],
        "clients": [client("C1")],
        "pricing": [price("contacts", cycle_months=3, cycle_fee="30.00", included_units=5000, metered=False,
                          overage_fee="0.002")],
        "usage_events": [
            usage("k1", "C1", "contacts", "2026-07-02T00:00:00Z", 5100),
            usage("k2", "C1", "contacts", "2026-08-20T00:00:00Z", 6200),
            usage("k3", "C1", "contacts", "2026-09-30T23:59:59Z", 6000),
            usage("k4", "C1", "contacts", "2026-10-15T00:00:00Z", 9000),
        ],
    })
    wh = tmp_path / "wh"
    for second, period in enumerate(("2026-10", "2026-11", "2026-12")):
        bill(ex, wh, period, second=second)
    assert lines(wh, "C1", "2026-10-01") == [
        ("contacts", "cycle_fee", D("1"), D("30.00"), D("30.00")),
        ("contacts", "overage", D("1200"), D("0.002"), D("2.40")),
    ]
    assert lines(wh, "C1", "2026-11-01") == []
    assert lines(wh, "C1", "2026-12-01") == []


def test_e10_bad_input(tmp_path):
    r2 = {"reseller_id": "R2", "name": "Reseller Two", "currency": "EUR"}
    good = [usage(f"ok{i}", "C1", "emails", f"2026-09-{i + 1:02d}T12:00:00Z", 100) for i in range(5)]
    ex = write_extracts(tmp_path / "ex", {
        "resellers": [R1, r2],
        "clients": [client("C1"), client("C9", reseller_id="R2")],
        "pricing": [price("emails", metered=True, unit_fee="0.01")],
        "usage_events": good + [
            usage("x1", "C9", "emails", "2026-09-10T00:00:00Z", 10),       # line 7: C9 is R2's
            dict(good[0]),                                                 # line 8: exact copy of line 2
            usage("x2", "C1", "emails", "2026-09-11T00:00:00Z", 10),       # line 9: conflicting
            usage("x2", "C1", "emails", "2026-09-11T00:00:00Z", 20),       # line 10: conflicting
            usage("x3", "C1", "emails", "2026-09-12T00:00:00Z", -5),       # line 11: negative
            usage("x4", "C1", "faxes", "2026-09-12T00:00:00Z", 10),        # line 12: unknown item
        ],
    })
    wh = tmp_path / "wh"
    bill(ex, wh, "2026-10")
    rejects = query(wh, "select source_line, reason from rejects where table_name = 'usage_events' "
                        "order by source_line")
    assert [line for line, _ in rejects] == [7, 9, 10, 11, 12]
    reasons = dict(rejects)
    assert reasons[7] == "client belongs to another reseller"
    assert reasons[9].startswith("conflicting duplicate event_id") and reasons[10] == reasons[9]
    assert reasons[11] == "negative quantity"
    assert reasons[12] == "unknown item_code faxes"
    assert all(r.endswith("usage_events/part-1.csv") for (r,) in query(wh, "select source_file from rejects"))
    # every other row is billed: 5 good rows x 100 emails x 0.01
    assert lines(wh, "C1", "2026-10-01") == [("emails", "usage", D("500"), D("0.01"), D("5.00"))]
    ((counts,),) = query(wh, "select list_filter(row_counts, lambda c: c.table_name = 'usage_events') from runs")
    assert counts[0]["rows_read"] == 11
    assert (counts[0]["rows_used"], counts[0]["rows_rejected"], counts[0]["duplicates_collapsed"]) == (5, 5, 1)
    assert query(wh, "select sum(event_count) from usage_summary") == [(5,)]
