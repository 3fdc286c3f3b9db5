"""Finance views in billing.duckdb (billing-rules.md section 7 "Aging"): receivables aging and
revenue by period, on tiny ledgers worked out by hand."""

from datetime import date

from helpers import R1, D, bill, client, price, query, usage, write_extracts


def _payment(payment_id: str, client_id: str, paid_at: str, amount: str) -> dict:
    return {"reseller_id": "R1", "payment_id": payment_id, "client_id": client_id, "paid_at": paid_at + "T12:00:00Z",
            "amount": amount, "method": "wire"}


def test_aging_puts_each_unpaid_invoice_in_its_bucket_oldest_paid_first(tmp_path):
    """net_days 10, 100.00 a month on the bill day.
    A (bill day 1 since July) paid 50.00 on 09-15, which settles half of the oldest invoice. As
    of 10-31: 07-01 due 07-11 -> 50.00 unpaid, 112 days past due (over-90); 08-01 due 08-11 ->
    100.00, 81 days (61-90); 09-01 due 09-11 -> 100.00, 50 days (31-60); 10-01 due 10-11 ->
    100.00, 20 days (1-30): 350.00 = its balance. B (bill day 25 from October): 10-25 due
    11-04 -> 100.00 current. C paid 130.00 against its 100.00: in credit, no aging rows."""
    ex = write_extracts(tmp_path / "ex", {
        "resellers": [dict(R1, net_days="10")],
        "clients": [client("A", start="2026-07-01"), client("B", start="2026-10-01", bill_day=25),
                    client("C", start="2026-10-01")],
        "pricing": [price("account", cycle_fee="100.00")],
        "payments": [_payment("P1", "A", "2026-09-15", "50.00"), _payment("P2", "C", "2026-10-05", "130.00")],
    })
    wh = tmp_path / "wh"
    for n, period in enumerate(("2026-07", "2026-08", "2026-09", "2026-10")):
        bill(ex, wh, period, as_of=date.fromisoformat(period + "-28"), second=n)

    aging = query(wh, "select client_id, bucket, amount from ar_aging where as_of = '2026-10-31' "
                      "order by client_id, bucket_order")
    assert aging == [
        ("A", "1-30", D("100.00")), ("A", "31-60", D("100.00")), ("A", "61-90", D("100.00")),
        ("A", "over-90", D("50.00")),
        ("B", "current", D("100.00")),
    ]
    # the buckets add up to the balance owed of every client that owes
    assert query(wh, """
        select s.client_id, s.balance_owed, sum(a.amount)
        from account_status s left join ar_aging a using (reseller_id, client_id, as_of)
        where s.as_of = '2026-10-31' group by all order by 1""") == [
        ("A", D("350.00"), D("350.00")), ("B", D("100.00"), D("100.00")), ("C", D("-30.00"), None)]
    # as of 09-30 the same client had 07-01 half paid (81 days: 61-90), 08-01 (50 days), 09-01 (19 days)
    assert query(wh, "select bucket, amount from ar_aging where client_id = 'A' and as_of = '2026-09-30' "
                     "order by bucket_order") == [
        ("1-30", D("100.00")), ("31-60", D("100.00")), ("61-90", D("50.00"))]


def test_revenue_by_period_with_an_adjustment_and_a_credit(tmp_path):
    """E1's C1 (emails: fee 20.00, 10,000 included, 0.0015 over): October 23.75, paid 10-20.
    Late usage (1,000 emails in September) re-bills October on 11-02: +1.50, an adjustment in
    October's revenue but on November's ledger. November: 20.00, and a manual credit of 5.00 on
    11-10. October: billed 25.25, collected 23.75, outstanding 0.00 at its end. November:
    billed 20.00, credited 5.00, outstanding 1.50 + 20.00 - 5.00 = 16.50."""
    tables = {
        "resellers": [R1], "clients": [client("C1")],
        "pricing": [price("emails", cycle_fee="20.00", included_units=10000, metered=False, overage_fee="0.0015")],
        "usage_events": [usage("e1", "C1", "emails", "2026-09-14T08:00:00Z", 12500)],
        "payments": [_payment("P1", "C1", "2026-10-20", "23.75")],
        "manual_items": [{"reseller_id": "R1", "manual_item_id": "M1", "client_id": "C1",
                          "created_at": "2026-11-10T09:00:00Z", "description": "goodwill", "amount": "-5.00",
                          "bill_mode": "now"}],
    }
    ex = write_extracts(tmp_path / "ex", tables)
    wh = tmp_path / "wh"
    bill(ex, wh, "2026-10", as_of=date(2026, 10, 31))
    write_extracts(ex, {"usage_events": [usage("e2", "C1", "emails", "2026-09-15T08:00:00Z", 1000)]}, "late.csv")
    bill(ex, wh, "2026-10", as_of=date(2026, 11, 2), second=1)
    bill(ex, wh, "2026-11", as_of=date(2026, 11, 30), second=2)
    assert query(wh, "select period, revision, total from invoices order by invoice_date, revision") == [
        ("2026-10", 1, D("23.75")), ("2026-10", 2, D("1.50")), ("2026-11", 1, D("20.00")),
        ("2026-11", 1, D("-5.00"))]
    assert query(wh, "select * exclude (reseller_id, currency) from revenue_by_period order by period") == [
        ("2026-10", D("25.25"), D("0.00"), D("23.75"), D("0.00"), 1),
        ("2026-11", D("20.00"), D("5.00"), D("0.00"), D("16.50"), 2),
    ]
