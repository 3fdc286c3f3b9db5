"""Edges of billing-rules.md section 4 (usage charges) and section 7 rounding."""

from helpers import R1, D, bill, bill_periods, client, lines, price, query, usage, write_extracts


def _bill(tmp_path, pricing, events, periods=("2026-10",), resellers=(R1,), clients=None):
    return bill_periods(tmp_path, {"resellers": list(resellers), "clients": clients or [client("C1")],
                                   "pricing": pricing, "usage_events": events}, periods)


def test_usage_equal_to_max_units_blocks_nothing(tmp_path):
    wh = _bill(tmp_path, [price("sms", metered=True, unit_fee="0.05", max_units=1000)],
               [usage("a", "C1", "sms", "2026-09-02T00:00:00Z", 1000)])
    assert lines(wh, "C1", "2026-10-01") == [("sms", "usage", D("1000"), D("0.05"), D("50.00"))]
    assert query(wh, "select blocked_units from usage_summary") == [(D("0"),)]


def test_minimum_applies_to_a_cycle_without_usage(tmp_path):
    wh = _bill(tmp_path, [price("phone_validation", metered=True, unit_fee="0.04", min_units=50)], [])
    assert lines(wh, "C1", "2026-10-01") == [("phone_validation", "minimum", D("50"), D("0.04"), D("2.00"))]


def test_a_bundle_without_overage_fee_is_unlimited(tmp_path):
    wh = _bill(tmp_path, [price("emails", cycle_fee="10.00", included_units=100, metered=False)],
               [usage("a", "C1", "emails", "2026-09-02T00:00:00Z", 5000)])
    assert lines(wh, "C1", "2026-10-01") == [("emails", "cycle_fee", D("1"), D("10.00"), D("10.00"))]
    assert query(wh, "select included_units_used, billable_units from usage_summary") == [(D("100"), D("4900"))]


def test_zero_amount_lines_are_not_written_but_units_are_reported(tmp_path):
    # cycle_fee 0 -> no line; 1 x 0.004 rounds to 0.00 -> no line
    wh = _bill(tmp_path, [price("sms", cycle_fee="0", metered=True, unit_fee="0.004")],
               [usage("a", "C1", "sms", "2026-09-02T00:00:00Z", 1)])
    assert lines(wh, "C1", "2026-10-01") == []
    assert query(wh, "select billable_units from usage_summary") == [(D("1"),)]


def test_each_line_rounds_once_half_away_from_zero(tmp_path):
    # 1 x 0.005 = 0.005 -> 0.01; 3 x 0.0025 = 0.0075 -> 0.01; the total is the sum of rounded lines
    wh = _bill(tmp_path, [
        price("sms", metered=True, unit_fee="0.005"),
        price("click_to_call", metered=True, unit_fee="0.0025"),
    ], [
        usage("a", "C1", "sms", "2026-09-02T00:00:00Z", 1),
        usage("b", "C1", "click_to_call", "2026-09-02T00:00:00Z", 3),
    ])
    assert [line[4] for line in lines(wh, "C1", "2026-10-01")] == [D("0.01"), D("0.01")]
    assert query(wh, "select total from invoices") == [(D("0.02"),)]


def test_a_zero_decimal_currency_rounds_to_whole_units(tmp_path):
    yen = {"reseller_id": "R1", "name": "Yen reseller", "currency": "JPY"}
    wh = _bill(tmp_path, [price("sms", metered=True, unit_fee="0.5")],
               [usage("a", "C1", "sms", "2026-09-02T00:00:00Z", 3)], resellers=(yen,))
    assert lines(wh, "C1", "2026-10-01") == [("sms", "usage", D("3"), D("0.5"), D("2"))]
    assert query(wh, "select currency, total from invoices") == [("JPY", D("2"))]


def test_raising_bonus_units_later_grants_only_the_difference(tmp_path):
    # Aug: pool 100 -> 100 free, 50 billed. Sep (priced 09-01, bonus 300): 300 - 100 used = 200
    # free of 250, 50 billed.
    wh = _bill(tmp_path, [
        price("email_validation", metered=True, unit_fee="0.01"),
        price("email_validation", level="client", client_id="C1", bonus_units=100),
        price("email_validation", level="client", client_id="C1", effective_from="2026-09-01", bonus_units=300),
    ], [
        usage("a", "C1", "email_validation", "2026-08-10T00:00:00Z", 150),
        usage("b", "C1", "email_validation", "2026-09-10T00:00:00Z", 250),
    ], periods=("2026-09", "2026-10"))
    assert lines(wh, "C1", "2026-09-01") == [("email_validation", "usage", D("50"), D("0.01"), D("0.50"))]
    assert lines(wh, "C1", "2026-10-01") == [("email_validation", "usage", D("50"), D("0.01"), D("0.50"))]
    assert query(wh, "select bonus_units_used from usage_summary order by bill_date") == [(D("100"),), (D("200"),)]


def test_a_pool_carries_over_months_without_usage_and_each_event_counts_in_its_own_window(tmp_path):
    # bill_day 15: cycle 1's window is [01-01, 02-15), cycle 2's [02-15, 03-15), cycle 3's
    # [03-15, 04-15), ..., cycle 9's [09-15, 10-15), billed on 10-15. Pool 300 used by
    # cycle 1: 100, cycle 2: 50 (a second before the bill instant), cycle 3: 120 (at it):
    # 270; none in cycles 4-8. C1 (pool 300): 30 left for cycle 9's 80, 50 billed x 0.01.
    # C2 (raised to 400 from 06-01, so walked): 400 - 270 = 130 left for 200, 70 billed.
    early = [("a", "2026-01-05T00:00:00Z", 100), ("b", "2026-03-14T23:59:59Z", 50), ("c", "2026-03-15T00:00:00Z", 120)]
    wh = _bill(tmp_path, [
        price("email_validation", metered=True, unit_fee="0.01", bonus_units=300),
        price("email_validation", level="client", client_id="C2", effective_from="2026-06-01", bonus_units=400),
    ], [
        usage(f"{c}-{event}", c, "email_validation", at, quantity) for c in ("C1", "C2") for event, at, quantity in early
    ] + [
        usage("C1-d", "C1", "email_validation", "2026-09-20T00:00:00Z", 80),
        usage("C2-d", "C2", "email_validation", "2026-09-20T00:00:00Z", 200),
    ], clients=[client("C1", bill_day=15), client("C2", bill_day=15)])
    assert lines(wh, "C1", "2026-10-15") == [("email_validation", "usage", D("50"), D("0.01"), D("0.50"))]
    assert lines(wh, "C2", "2026-10-15") == [("email_validation", "usage", D("70"), D("0.01"), D("0.70"))]
    assert query(wh, "select client_id, quantity, bonus_units_used, billable_units from usage_summary "
                     "order by client_id") == [("C1", D("80"), D("30"), D("50")), ("C2", D("200"), D("130"), D("70"))]


def test_summary_units_add_up_to_the_cycle_quantity(tmp_path):
    # Q 1300: blocked 300 (max 1000), included 200, bonus 500, billable 300 -> 300 x 0.02
    wh = _bill(tmp_path, [
        price("reverse_phone_lookup", metered=True, unit_fee="0.02", max_units=1000, included_units=200,
              bonus_units=500),
    ], [usage("a", "C1", "reverse_phone_lookup", "2026-09-02T00:00:00Z", 1300)])
    assert query(wh, "select quantity, blocked_units, included_units_used, bonus_units_used, billable_units "
                     "from usage_summary") == [(D("1300"), D("300"), D("200"), D("500"), D("300"))]
    assert lines(wh, "C1", "2026-10-01") == [("reverse_phone_lookup", "usage", D("300"), D("0.02"), D("6.00"))]


def test_custom_items_bill_with_their_own_aggregation_and_cannot_redefine_standard_ones(tmp_path):
    ex = write_extracts(tmp_path / "ex", {
        "resellers": [R1], "clients": [client("C1")],
        "billing_items": [
            {"reseller_id": "R1", "item_code": "storage_gb", "name": "File Storage", "unit": "GB",
             "aggregation": "max"},
            {"reseller_id": "R1", "item_code": "sms", "name": "Texts", "unit": "text", "aggregation": "sum"},
            {"reseller_id": "R9", "item_code": "fax", "name": "Fax", "unit": "page", "aggregation": "sum"},
        ],
        "pricing": [price("storage_gb", metered=True, unit_fee="0.25", included_units=10)],
        "usage_events": [
            usage("a", "C1", "storage_gb", "2026-09-02T00:00:00Z", 30),
            usage("b", "C1", "storage_gb", "2026-09-20T00:00:00Z", 50),   # the peak
            usage("c", "C1", "storage_gb", "2026-09-25T00:00:00Z", 40),
        ],
    })
    wh = tmp_path / "wh"
    bill(ex, wh, "2026-10")
    assert lines(wh, "C1", "2026-10-01") == [("storage_gb", "usage", D("40"), D("0.25"), D("10.00"))]
    assert query(wh, "select source_line, reason from rejects order by source_line") == [
        (3, "item_code sms is a standard item and cannot be redefined"),
        (4, "unknown reseller R9"),
    ]
