"""Lead sales (billing-rules.md section 5) and manual items (section 7), hand-worked."""

from helpers import R1, D, bill, client, price, query, write_extracts


def _levels():
    return [
        {"reseller_id": "R1", "level_code": "standard", "lead_type": "auto_insurance", "price": "25.00",
         "effective_from": "2026-01-01"},
        {"reseller_id": "R1", "level_code": "standard", "lead_type": "", "price": "15.00", "effective_from": "2026-01-01"},
        {"reseller_id": "R1", "level_code": "premium", "lead_type": "auto_insurance", "price": "32.00",
         "effective_from": "2026-01-01"},
        {"reseller_id": "R1", "level_code": "premium", "lead_type": "", "price": "20.00", "effective_from": "2026-01-01"},
    ]


def _sale(sale_id, client_id, lead_type, sold_at, price=""):
    return {"reseller_id": "R1", "sale_id": sale_id, "client_id": client_id, "lead_id": "L" + sale_id,
            "lead_type": lead_type, "sold_at": sold_at, "price": price}


def _lead_lines(wh, client_id, day):
    return query(wh, """select l.line_type, l.quantity, l.unit_price, l.amount from invoice_lines l
                        join invoices i using (invoice_id, revision)
                        where i.client_id = $c and i.invoice_date = $d::date and i.kind = 'leads'
                        order by l.line_no""", {"c": client_id, "d": day})


def test_e8_lead_sales_priced_by_the_clients_level(tmp_path):
    ex = write_extracts(tmp_path / "ex", {
        "resellers": [{**R1, "lead_price_level": "standard"}],
        "groups": [{"reseller_id": "R1", "group_id": "G1", "lead_price_level": "premium"}],
        "clients": [client("C2", "G1"), client("C4")],
        "lead_price_levels": _levels(),
        "lead_sales": [
            _sale("s1", "C2", "auto_insurance", "2026-10-14T09:00:00Z"),
            _sale("s2", "C2", "auto_insurance", "2026-10-14T10:00:00Z"),
            _sale("s3", "C2", "auto_insurance", "2026-10-14T11:00:00Z"),
            _sale("s4", "C2", "solar", "2026-10-14T12:00:00Z"),
            _sale("s5", "C4", "solar", "2026-10-14T12:00:00Z"),
            _sale("s6", "C4", "solar", "2026-10-14T13:00:00Z", price="40.00"),
        ],
        "lead_returns": [{"reseller_id": "R1", "return_id": "r1", "sale_id": "s2",
                          "returned_at": "2026-10-16T08:00:00Z", "reason": "duplicate"}],
    })
    wh = tmp_path / "wh"
    bill(ex, wh, "2026-10")
    assert _lead_lines(wh, "C2", "2026-10-14") == [
        ("lead_sale", D("3"), D("32.00"), D("96.00")), ("lead_sale", D("1"), D("20.00"), D("20.00")),
    ]
    assert query(wh, "select total from invoices where client_id = 'C2' and invoice_date = '2026-10-14'") == [
        (D("116.00"),)
    ]
    assert sorted(_lead_lines(wh, "C4", "2026-10-14")) == [
        ("lead_sale", D("1"), D("15.00"), D("15.00")), ("lead_sale", D("1"), D("40.00"), D("40.00")),
    ]
    assert _lead_lines(wh, "C2", "2026-10-16") == [("lead_return", D("1"), D("-32.00"), D("-32.00"))]


def test_a_return_credits_the_billed_price_after_the_level_price_changed(tmp_path):
    ex = write_extracts(tmp_path / "ex", {
        "resellers": [{**R1, "lead_price_level": "standard"}], "clients": [client("C1")],
        "lead_price_levels": _levels() + [
            {"reseller_id": "R1", "level_code": "standard", "lead_type": "auto_insurance", "price": "28.00",
             "effective_from": "2026-10-15"}],
        "lead_sales": [_sale("s1", "C1", "auto_insurance", "2026-10-14T09:00:00Z"),
                       _sale("s2", "C1", "auto_insurance", "2026-10-15T09:00:00Z")],
        "lead_returns": [{"reseller_id": "R1", "return_id": "r1", "sale_id": "s1", "returned_at": "2026-10-20T08:00:00Z"},
                         {"reseller_id": "R1", "return_id": "r2", "sale_id": "s1", "returned_at": "2026-10-21T08:00:00Z"}],
    })
    wh = tmp_path / "wh"
    bill(ex, wh, "2026-10")
    assert _lead_lines(wh, "C1", "2026-10-15") == [("lead_sale", D("1"), D("28.00"), D("28.00"))]
    assert _lead_lines(wh, "C1", "2026-10-20") == [("lead_return", D("1"), D("-25.00"), D("-25.00"))]
    assert query(wh, "select reason from rejects") == [("lead of sale s1 was already returned",)]


def test_a_sale_without_any_price_is_rejected_not_billed_at_zero(tmp_path):
    # C1's level is `bare`: no price for solar and no any-type price; no fallback to `standard`
    ex = write_extracts(tmp_path / "ex", {
        "resellers": [{**R1, "lead_price_level": "standard"}],
        "clients": [client("C1", lead_price_level="bare"), client("C2", reseller_id="R1")],
        "lead_price_levels": _levels() + [
            {"reseller_id": "R1", "level_code": "bare", "lead_type": "auto_insurance", "price": "10.00",
             "effective_from": "2026-01-01"}],
        "lead_sales": [_sale("s1", "C1", "solar", "2026-10-14T09:00:00Z"),
                       _sale("s2", "C1", "auto_insurance", "2026-10-14T09:00:00Z")],
    })
    wh = tmp_path / "wh"
    bill(ex, wh, "2026-10")
    assert query(wh, "select source_line, reason from rejects") == [
        (2, "no price for lead type solar at level bare on 2026-10-14")
    ]
    assert _lead_lines(wh, "C1", "2026-10-14") == [("lead_sale", D("1"), D("10.00"), D("10.00"))]


def test_manual_items_now_make_an_invoice_and_next_invoice_joins_the_cycle_invoice(tmp_path):
    ex = write_extracts(tmp_path / "ex", {
        "resellers": [R1], "clients": [client("C1", bill_day=5)],
        "pricing": [price("account", cycle_fee="10.00")],
        "manual_items": [
            {"reseller_id": "R1", "manual_item_id": "m1", "client_id": "C1", "created_at": "2026-10-02T10:00:00Z",
             "description": "Setup work", "amount": "150.00", "bill_mode": "now"},
            {"reseller_id": "R1", "manual_item_id": "m2", "client_id": "C1", "created_at": "2026-10-03T10:00:00Z",
             "description": "Goodwill credit", "amount": "-4.50", "bill_mode": "next_invoice"},
        ],
    })
    wh = tmp_path / "wh"
    bill(ex, wh, "2026-10")
    assert query(wh, "select kind, invoice_date::varchar, total from invoices order by invoice_date") == [
        ("manual", "2026-10-02", D("150.00")), ("cycle", "2026-10-05", D("5.50")),
    ]
    assert query(wh, "select item_code, line_type, amount from invoice_lines where invoice_date = '2026-10-05' "
                     "order by line_no") == [("account", "cycle_fee", D("10.00")), ("manual", "manual", D("-4.50"))]
    assert query(wh, "select subtotal, credits from invoices where kind = 'cycle'") == [(D("10.00"), D("4.50"))]


def test_manual_items_and_payments_finer_than_the_currency_are_rejected_not_rounded(tmp_path):
    # 10.005 USD or 500.5 JPY was never paid nor can be charged: rounding it would change money silently
    r2 = {"reseller_id": "R2", "name": "Yen reseller", "currency": "JPY", "net_days": "0"}
    manual = {"client_id": "C1", "created_at": "2026-10-02T10:00:00Z", "description": "Setup", "bill_mode": "now"}
    paid = {"client_id": "C1", "paid_at": "2026-10-20T10:00:00Z", "method": "wire"}
    ex = write_extracts(tmp_path / "ex", {
        "resellers": [R1, r2],
        "clients": [client("C1"), client("C1") | {"reseller_id": "R2"}],
        "manual_items": [
            {"reseller_id": "R1", "manual_item_id": "m1", **manual, "amount": "150.005"},
            {"reseller_id": "R1", "manual_item_id": "m2", **manual, "amount": "-4.50"},
            {"reseller_id": "R2", "manual_item_id": "m3", **manual, "amount": "1200.5"},
            {"reseller_id": "R2", "manual_item_id": "m4", **manual, "amount": "1200"},
        ],
        "payments": [
            {"reseller_id": "R1", "payment_id": "p1", **paid, "amount": "10.005"},
            {"reseller_id": "R1", "payment_id": "p2", **paid, "amount": "1.25"},
            {"reseller_id": "R2", "payment_id": "p3", **paid, "amount": "500.50"},
            {"reseller_id": "R2", "payment_id": "p4", **paid, "amount": "500"},
        ],
    })
    wh = tmp_path / "wh"
    bill(ex, wh, "2026-10")
    assert query(wh, "select table_name, reseller_id, source_line, reason from rejects order by all") == [
        ("manual_items", "R1", 2, "amount 150.005 has more decimals than USD allows (2)"),
        ("manual_items", "R2", 4, "amount 1200.5 has more decimals than JPY allows (0)"),
        ("payments", "R1", 2, "amount 10.005 has more decimals than USD allows (2)"),
        ("payments", "R2", 4, "amount 500.5 has more decimals than JPY allows (0)"),
    ]
    assert query(wh, "select reseller_id, kind, total from invoices order by all") == [
        ("R1", "manual", D("-4.50")), ("R2", "manual", D("1200.00")),
    ]
    assert query(wh, "select reseller_id, balance_owed from account_status order by all") == [
        ("R1", D("-5.75")), ("R2", D("700.00")),
    ]
