"""Edges of billing-rules.md section 3 (cycles, windows, trial, cancellation)."""

from helpers import D, bill_periods, client, lines, price, query, usage


def _bill(tmp_path, clients, pricing, events, periods):
    return bill_periods(tmp_path, {"clients": clients, "pricing": pricing, "usage_events": events}, periods)


def test_first_cycle_starts_on_the_first_bill_day_after_start_and_bills_fees_only(tmp_path):
    # start 03-20, bill_day 15: first cycle 04-15 (fee only); its usage window is
    # [03-20, 05-15), billed 05-15.
    wh = _bill(tmp_path, [client("C1", start="2026-03-20", bill_day=15)], [
        price("account", cycle_fee="10.00"),
        price("sms", metered=True, unit_fee="0.10"),
    ], [
        usage("a", "C1", "sms", "2026-03-25T00:00:00Z", 5),
        usage("b", "C1", "sms", "2026-04-20T00:00:00Z", 3),
    ], ("2026-03", "2026-04", "2026-05"))
    assert query(wh, "select count(*) from invoices where period = '2026-03'") == [(0,)]
    assert lines(wh, "C1", "2026-04-15") == [("account", "cycle_fee", D("1"), D("10.00"), D("10.00"))]
    assert lines(wh, "C1", "2026-05-15") == [
        ("account", "cycle_fee", D("1"), D("10.00"), D("10.00")),
        ("sms", "usage", D("8"), D("0.10"), D("0.80")),
    ]


def test_windows_are_half_open_an_event_at_the_bill_instant_belongs_to_the_next(tmp_path):
    wh = _bill(tmp_path, [client("C1")], [price("sms", metered=True, unit_fee="0.10")], [
        usage("a", "C1", "sms", "2026-09-30T23:59:59Z", 1),
        usage("b", "C1", "sms", "2026-10-01T00:00:00Z", 10),
    ], ("2026-10", "2026-11"))
    assert lines(wh, "C1", "2026-10-01") == [("sms", "usage", D("1"), D("0.10"), D("0.10"))]
    assert lines(wh, "C1", "2026-11-01") == [("sms", "usage", D("10"), D("0.10"), D("1.00"))]


def test_trial_ends_at_an_instant_usage_before_it_is_trial_units(tmp_path):
    # start 09-10, trial 35 days -> trial ends 2026-10-15T00:00Z, inside the window [10-10, 11-10)
    wh = _bill(tmp_path, [client("C1", start="2026-09-10", bill_day=10)], [
        price("emails", metered=True, unit_fee="0.01", trial_days=35),
        price("users", metered=True, unit_fee="1.00", trial_days=35),
    ], [
        usage("a", "C1", "emails", "2026-10-14T23:59:59Z", 100),
        usage("b", "C1", "emails", "2026-10-15T00:00:00Z", 7),
        usage("c", "C1", "users", "2026-10-12T00:00:00Z", 50),   # peak during the trial
        usage("d", "C1", "users", "2026-10-20T00:00:00Z", 8),
        usage("e", "C1", "users", "2026-10-25T00:00:00Z", 6),
    ], ("2026-11",))
    assert lines(wh, "C1", "2026-11-10") == [
        ("users", "usage", D("8"), D("1.00"), D("8.00")),
        ("emails", "usage", D("7"), D("0.01"), D("0.07")),
    ]
    assert query(wh, "select item_code, trial_units, quantity from usage_summary order by item_code") == [
        ("emails", D("100"), D("7")), ("users", D("50"), D("8")),
    ]


def test_cancellation_bills_all_unbilled_usage_on_the_next_bill_date_with_minimums(tmp_path):
    wh = _bill(tmp_path, [client("C1", cancel_date="2026-10-15")], [
        price("account", cycle_fee="50.00"),
        price("contacts", cycle_months=3, cycle_fee="30.00", included_units=1000, metered=False,
              overage_fee="0.01"),
        price("sms", metered=True, unit_fee="0.10", min_units=100),
    ], [
        usage("a", "C1", "contacts", "2026-10-03T00:00:00Z", 1500),
        usage("b", "C1", "sms", "2026-10-05T00:00:00Z", 20),
        usage("c", "C1", "sms", "2026-10-15T00:00:00Z", 4),   # at the cancel date: rejected
    ], ("2026-10", "2026-11", "2026-12"))
    # 10-01 starts cycles before the cancel date: fees in advance; September's sms minimum
    assert lines(wh, "C1", "2026-10-01") == [
        ("account", "cycle_fee", D("1"), D("50.00"), D("50.00")),
        ("contacts", "cycle_fee", D("1"), D("30.00"), D("30.00")),
        ("sms", "minimum", D("100"), D("0.10"), D("10.00")),
    ]
    # 11-01, the first bill date after cancelling: no fees; all usage up to 10-15, even the
    # quarterly item mid-cycle; the minimum in full
    assert lines(wh, "C1", "2026-11-01") == [
        ("contacts", "overage", D("500"), D("0.01"), D("5.00")),
        ("sms", "usage", D("20"), D("0.10"), D("2.00")),
        ("sms", "minimum", D("80"), D("0.10"), D("8.00")),
    ]
    assert query(wh, "select count(*) from invoices where period = '2026-12'") == [(0,)]
    assert query(wh, "select distinct reason from rejects") == [("usage after the client's cancel date",)]


def test_a_new_cycle_length_applies_from_the_cycle_it_is_priced_on(tmp_path):
    # quarterly from January (Jan, Apr, Jul); from 07-01 monthly: Jul, Aug, Sep ...
    wh = _bill(tmp_path, [client("C1")], [
        price("contacts", cycle_months=3, cycle_fee="30.00"),
        price("contacts", effective_from="2026-07-01", cycle_months=1, cycle_fee="12.00"),
    ], [], ("2026-05", "2026-06", "2026-07", "2026-08"))
    assert query(wh, "select strftime(invoice_date, '%m'), total from invoices order by invoice_date") == [
        ("07", D("12.00")), ("08", D("12.00")),
    ]


def test_a_cycle_key_packs_client_item_and_cycle_numbers_into_distinct_integers():
    """sql/macros.sql cycle_key: the usage roll-up's name for a cycle (client_no, item_no,
    cycle_no): 2^64 * client + 2^32 * item + cycle, so no two cycles share one."""
    from transforms import models

    con = models.connect()
    try:
        assert con.execute("select cycle_key(1, 2, 3)").fetchone() == (2**64 + 2 * 2**32 + 3,)
        # the largest cycle number of item 1 stays below the first of item 2, and client 1's
        # largest item below client 2's first
        assert con.execute("select cycle_key(1, 1, 4294967295) < cycle_key(1, 2, 0), "
                           "cycle_key(1, 4294967295, 4294967295) < cycle_key(2, 0, 0)").fetchone() == (True, True)
    finally:
        con.close()
