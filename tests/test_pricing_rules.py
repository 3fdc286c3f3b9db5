"""Edges of billing-rules.md section 2 (pricing hierarchy) with hand-worked values."""

from datetime import date

from helpers import D, bill_periods, client, lines, price, query, usage


def _bill(tmp_path, pricing, events, clients=None, periods=("2026-10",), groups=None):
    return bill_periods(tmp_path, {"groups": groups or [], "clients": clients or [client("C1")],
                                   "pricing": pricing, "usage_events": events}, periods)


def test_a_row_applies_from_its_effective_from_day_including_a_cycle_start(tmp_path):
    # usage of [09-01, 10-01) is priced with the rows in force on 09-01: the 09-01 row applies,
    # the 09-02 row does not.
    wh = _bill(tmp_path, [
        price("sms", metered=True, unit_fee="0.10"),
        price("sms", effective_from="2026-09-01", metered=True, unit_fee="0.20"),
        price("sms", effective_from="2026-09-02", metered=True, unit_fee="0.30"),
    ], [
        usage("a", "C1", "sms", "2026-08-20T00:00:00Z", 10),
        usage("b", "C1", "sms", "2026-09-20T00:00:00Z", 10),
    ], periods=("2026-09", "2026-10"))
    assert lines(wh, "C1", "2026-09-01") == [("sms", "usage", D("10"), D("0.10"), D("1.00"))]
    assert lines(wh, "C1", "2026-10-01") == [("sms", "usage", D("10"), D("0.20"), D("2.00"))]


def test_cycle_fee_uses_the_rows_in_force_on_its_bill_date(tmp_path):
    wh = _bill(tmp_path, [
        price("account", cycle_fee="10.00"),
        price("account", effective_from="2026-10-01", cycle_fee="12.00"),
    ], [], periods=("2026-09", "2026-10"))
    assert lines(wh, "C1", "2026-09-01") == [("account", "cycle_fee", D("1"), D("10.00"), D("10.00"))]
    assert lines(wh, "C1", "2026-10-01") == [("account", "cycle_fee", D("1"), D("12.00"), D("12.00"))]
    assert query(wh, "select invoice_date, price_source from invoice_lines order by invoice_date") == [
        (date(2026, 9, 1), "cycle_fee=account, cycle_months=default, trial_days=default, enabled=default; "
                           "rows in force: account 2026-01-01"),
        (date(2026, 10, 1), "cycle_fee=account, cycle_months=default, trial_days=default, enabled=default; "
                            "rows in force: account 2026-10-01")]


def test_an_empty_cell_inherits_instead_of_keeping_the_older_value(tmp_path):
    # client row v1: included 50; client row v2 (from 09-01) sets only unit_fee, so
    # included_units falls back to the account's 10, not the client's older 50.
    wh = _bill(tmp_path, [
        price("sms", metered=True, unit_fee="0.10", included_units=10),
        price("sms", level="client", client_id="C1", included_units=50),
        price("sms", level="client", client_id="C1", effective_from="2026-09-01", unit_fee="0.05"),
    ], [usage("a", "C1", "sms", "2026-09-10T00:00:00Z", 100)])
    assert lines(wh, "C1", "2026-10-01") == [("sms", "usage", D("90"), D("0.05"), D("4.50"))]
    (source,) = query(wh, "select price_source from invoice_lines")[0]
    assert "unit_fee=client" in source and "included_units=account" in source
    # the whole text: options nobody sets are 'default'; the rows in force on the cycle start 09-01
    assert source == ("metered=account, unit_fee=client, included_units=account, bonus_units=default, "
                      "max_units=default, trial_days=default, enabled=default; "
                      "rows in force: account 2026-01-01, client 2026-09-01")


def test_zero_and_false_are_values_not_inherit(tmp_path):
    # client: included_units 0 (not the account's 100) and metered false -> a bundle whose
    # overage_fee comes from the group.
    wh = _bill(tmp_path, [
        price("emails", metered=True, unit_fee="0.01", included_units=100),
        price("emails", level="group", group_id="G1", overage_fee="0.02"),
        price("emails", level="client", client_id="C1", included_units=0, metered=False),
    ], [usage("a", "C1", "emails", "2026-09-10T00:00:00Z", 300)],
        clients=[client("C1", "G1")], groups=[{"reseller_id": "R1", "group_id": "G1"}])
    assert lines(wh, "C1", "2026-10-01") == [("emails", "overage", D("300"), D("0.02"), D("6.00"))]


def test_enabled_false_at_client_level_turns_an_inherited_item_off(tmp_path):
    wh = _bill(tmp_path, [
        price("sms", metered=True, unit_fee="0.10", cycle_fee="5.00"),
        price("sms", level="client", client_id="C1", enabled=False),
    ], [usage("a", "C1", "sms", "2026-09-10T00:00:00Z", 100), usage("b", "C2", "sms", "2026-09-10T00:00:00Z", 1)],
        clients=[client("C1"), client("C2")])
    assert lines(wh, "C1", "2026-10-01") == []
    assert lines(wh, "C2", "2026-10-01") == [
        ("sms", "cycle_fee", D("1"), D("5.00"), D("5.00")),
        ("sms", "usage", D("1"), D("0.10"), D("0.10")),
    ]
    # not billed, not rejected, visible in the usage summary
    assert query(wh, "select count(*) from rejects") == [(0,)]
    assert query(wh, "select quantity, billable_units, is_enabled from usage_summary where client_id = 'C1'") == [
        (D("100"), D("0"), False)
    ]


def test_an_item_no_row_names_is_not_billed_but_its_usage_is_reported(tmp_path):
    wh = _bill(tmp_path, [price("sms", metered=True, unit_fee="0.10")],
               [usage("a", "C1", "click_to_call", "2026-09-10T00:00:00Z", 7)])
    assert lines(wh, "C1", "2026-10-01") == []
    assert query(wh, "select item_code, quantity, is_enabled from usage_summary where quantity > 0") == [
        ("click_to_call", D("7"), False)
    ]


def test_a_row_effective_after_the_window_start_enables_nothing_before_it(tmp_path):
    # the only row starts 09-15: the window [09-01, 10-01) is priced on 09-01, when no row applies
    wh = _bill(tmp_path, [price("sms", effective_from="2026-09-15", metered=True, unit_fee="0.10")],
               [usage("a", "C1", "sms", "2026-09-20T00:00:00Z", 10)], periods=("2026-10", "2026-11"))
    assert lines(wh, "C1", "2026-10-01") == []


def test_an_item_priced_for_one_client_only_reports_the_others_usage_unbilled(tmp_path):
    # click_to_call has a client row for C1 and no account row: C2's usage of it is not
    # enabled for C2; sms, priced at account level, bills both clients
    wh = _bill(tmp_path, [
        price("sms", metered=True, unit_fee="0.10"),
        price("click_to_call", level="client", client_id="C1", metered=True, unit_fee="0.50"),
    ], [
        usage("a", "C1", "click_to_call", "2026-09-10T00:00:00Z", 4),
        usage("b", "C2", "click_to_call", "2026-09-10T00:00:00Z", 6),
        usage("c", "C2", "sms", "2026-09-11T00:00:00Z", 3),
    ], clients=[client("C1"), client("C2")])
    assert lines(wh, "C1", "2026-10-01") == [("click_to_call", "usage", D("4"), D("0.50"), D("2.00"))]
    assert lines(wh, "C2", "2026-10-01") == [("sms", "usage", D("3"), D("0.10"), D("0.30"))]
    assert query(wh, "select client_id, item_code, quantity, billable_units, is_enabled from usage_summary "
                     "where quantity > 0 order by all") == [
        ("C1", "click_to_call", D("4"), D("4"), True),
        ("C2", "click_to_call", D("6"), D("0"), False),
        ("C2", "sms", D("3"), D("3"), True),
    ]


def test_each_level_applies_the_row_whose_span_holds_the_change_point(tmp_path):
    # sms account rows 01-01 (0.10), 08-01 (0.20), 11-01 (0.40); a client row from 09-15 sets
    # included_units 5 only; click_to_call's account rows change on 09-10, which must not end
    # the sms 08-01 row's span. The window [09-01, 10-01) is priced on 09-01 (sms 0.20, no
    # client row; click_to_call 1.00), [10-01, 11-01) on 10-01, i.e. on the 09-15 change
    # point: sms 0.20 (the 08-01 row, not 01-01's or 11-01's) with 5 included, click_to_call 3.00.
    wh = _bill(tmp_path, [
        price("sms", metered=True, unit_fee="0.10"),
        price("sms", effective_from="2026-08-01", metered=True, unit_fee="0.20"),
        price("sms", effective_from="2026-11-01", metered=True, unit_fee="0.40"),
        price("sms", level="client", client_id="C1", effective_from="2026-09-15", included_units=5),
        price("click_to_call", metered=True, unit_fee="1.00"),
        price("click_to_call", effective_from="2026-09-10", metered=True, unit_fee="3.00"),
    ], [
        usage("a", "C1", "sms", "2026-09-20T00:00:00Z", 10),
        usage("b", "C1", "click_to_call", "2026-09-05T00:00:00Z", 1),
        usage("c", "C1", "sms", "2026-10-20T00:00:00Z", 10),
        usage("d", "C1", "click_to_call", "2026-10-05T00:00:00Z", 10),
    ], periods=("2026-10", "2026-11"))
    assert lines(wh, "C1", "2026-10-01", "sms") == [("sms", "usage", D("10"), D("0.20"), D("2.00"))]
    assert lines(wh, "C1", "2026-10-01", "click_to_call") == [
        ("click_to_call", "usage", D("1"), D("1.00"), D("1.00"))]
    assert lines(wh, "C1", "2026-11-01", "sms") == [("sms", "usage", D("5"), D("0.20"), D("1.00"))]
    assert lines(wh, "C1", "2026-11-01", "click_to_call") == [
        ("click_to_call", "usage", D("10"), D("3.00"), D("30.00"))]


def test_which_level_supplied_an_option_is_coded_then_named_with_none_in_force_the_default():
    """sql/macros.sql: option_source codes the lowest level whose row has a value (the resolved
    prices keep the code); option_source_label names it on a line, and a line whose change
    point is not found (a null code) says `default`, as its text did before the code."""
    from transforms import models

    con = models.connect()
    try:
        assert con.execute("""
            select option_source_label(option_source(c, g, a))
            from (values (1, 2, 3), (null, 2, 3), (null, null, 3), (null, null, null), (false, true, true))
                as t(c, g, a)
        """).fetchall() == [("client",), ("group",), ("account",), ("default",), ("client",)]
        assert con.execute("select option_source_label(null::utinyint)").fetchone() == ("default",)
        assert con.execute("select typeof(option_source(null, 1, 1))").fetchone() == ("UTINYINT",)
    finally:
        con.close()
