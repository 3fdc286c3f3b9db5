"""A realistic, deterministic sample extract set for `billing demo` and end-to-end tests.

Two resellers (USD and EUR), five groups, `n_clients` clients with staggered bill days,
new clients in trial and one cancellation, every standard item priced at mixed levels (a
price change mid-period, a disabled item, a bonus pool), two custom items, prepaid clients
(every 10th), lead price levels with sales and returns, manual items, payments (every third
client never pays, so lock-out shows), and `n_events` usage events over July-September
2026 (Parquet, typed: occurred_at a UTC timestamp, quantity a decimal), plus a handful of
bad rows (CSV) so the rejects output has something to show. Same arguments -> same files.
"""

import csv
from pathlib import Path

import duckdb

from transforms.contract import EXTRACT_TABLES

USAGE_MONTHS = ("2026-07-01", "2026-10-01")  # usage is generated in [start, end)
# Every month from the first client's start, as a nightly schedule would have billed them;
# the demo's summary shows the last three.
DEMO_PERIODS = tuple(f"2026-{month:02d}" for month in range(1, 11))

RESELLERS = [
    {"reseller_id": "R-ACME", "name": "Acme CRM Partners", "currency": "USD", "net_days": "15",
     "lead_price_level": "standard"},
    {"reseller_id": "R-EURO", "name": "EuroLeads GmbH", "currency": "EUR", "net_days": "30",
     "lead_price_level": "standard"},
]
GROUPS = {"R-ACME": ["SMB", "ENT", "AGENCY"], "R-EURO": ["STD", "PRO"]}
CUSTOM_ITEMS = [
    {"reseller_id": "R-ACME", "item_code": "storage_gb", "name": "File Storage", "unit": "GB", "aggregation": "max"},
    {"reseller_id": "R-EURO", "item_code": "whatsapp", "name": "WhatsApp Messaging", "unit": "message",
     "aggregation": "sum"},
]

# item -> account-level options (both resellers); quantities: (aggregation, low, high)
ACCOUNT_PRICES = {
    "account": dict(cycle_fee="49.00", trial_days=14, lockout_when_owing="true"),
    "users": dict(metered="true", unit_fee="12.00", included_units=3),
    "contacts": dict(cycle_months=3, cycle_fee="30.00", included_units=5000, metered="false", overage_fee="0.002"),
    "emails": dict(cycle_fee="20.00", included_units=10000, metered="false", overage_fee="0.0015"),
    "lead_aggregation": dict(metered="true", unit_fee="0.50"),
    "reverse_phone_lookup": dict(metered="true", unit_fee="0.05", max_units=2000),
    "email_validation": dict(metered="true", unit_fee="0.01", included_units=100),
    "phone_validation": dict(metered="true", unit_fee="0.04", min_units=50),
    "address_validation": dict(metered="true", unit_fee="0.03"),
    "page_generator": dict(cycle_fee="15.00", included_units=5, metered="false", overage_fee="3.00"),
    "click_to_call": dict(metered="true", unit_fee="0.10"),
    "sms": dict(metered="true", unit_fee="0.05", max_units=5000, min_units=200),
    "inbound_call_tracking": dict(metered="true", unit_fee="0.08", trial_days=30),
    "email_integration": dict(cycle_fee="5.00", included_units=2, metered="false", overage_fee="2.50"),
}
USAGE_SHAPE = {
    "users": ("max", 1, 25), "contacts": ("max", 500, 9000), "emails": ("sum", 10, 400),
    "lead_aggregation": ("sum", 1, 5), "reverse_phone_lookup": ("sum", 1, 60),
    "email_validation": ("sum", 1, 40), "phone_validation": ("sum", 1, 40),
    "address_validation": ("sum", 1, 30), "page_generator": ("max", 1, 12),
    "click_to_call": ("sum", 1, 6), "sms": ("sum", 1, 80), "inbound_call_tracking": ("sum", 1, 5),
    "email_integration": ("max", 1, 5), "storage_gb": ("max", 1, 200), "whatsapp": ("sum", 1, 30),
}


def _pricing_rows(clients: list[dict]) -> list[dict]:
    rows = []
    for reseller in RESELLERS:
        rid = reseller["reseller_id"]
        for item, options in ACCOUNT_PRICES.items():
            rows.append({"reseller_id": rid, "level": "account", "item_code": item,
                         "effective_from": "2026-01-01", **options})
    custom = {"storage_gb": dict(metered="true", unit_fee="0.25", included_units=10),
              "whatsapp": dict(metered="true", unit_fee="0.02")}
    for item in CUSTOM_ITEMS:
        rows.append({"reseller_id": item["reseller_id"], "level": "account", "item_code": item["item_code"],
                     "effective_from": "2026-01-01", **custom[item["item_code"]]})
    group_rows = [
        ("R-ACME", "ENT", "users", "2026-01-01", dict(unit_fee="9.00", included_units=10)),
        ("R-ACME", "ENT", "emails", "2026-01-01", dict(included_units=50000)),
        ("R-ACME", "SMB", "account", "2026-01-01", dict(cycle_fee="29.00")),
        ("R-ACME", "AGENCY", "sms", "2026-01-01", dict(unit_fee="0.045")),
        ("R-ACME", "AGENCY", "sms", "2026-09-01", dict(unit_fee="0.04")),  # price change mid-demo
        ("R-EURO", "PRO", "contacts", "2026-01-01", dict(cycle_months=12, cycle_fee="300.00")),
        ("R-EURO", "STD", "click_to_call", "2026-01-01", dict(enabled="false")),
    ]
    for rid, gid, item, since, options in group_rows:
        rows.append({"reseller_id": rid, "level": "group", "group_id": gid, "item_code": item,
                     "effective_from": since, **options})
    client_rows = [
        ("R-ACME", "C0005", "email_validation", dict(bonus_units=1000)),
        ("R-ACME", "C0010", "users", dict(included_units=5)),
        ("R-ACME", "C0015", "sms", dict(enabled="false")),
        ("R-EURO", "C0130", "email_integration", dict(overage_fee="2.00")),
    ] + [  # prepaid clients: every 10th
        (client["reseller_id"], client["client_id"], "account", dict(replenishment_amount="250.00"))
        for client in clients if int(client["client_id"][1:]) % 10 == 0
    ]
    for rid, cid, item, options in client_rows:
        rows.append({"reseller_id": rid, "level": "client", "client_id": cid, "item_code": item,
                     "effective_from": "2026-01-01", **options})
    return rows


LEAD_PRICES = [
    {"reseller_id": r, "level_code": level, "lead_type": lead_type, "price": amount, "effective_from": "2026-01-01"}
    for r in ("R-ACME", "R-EURO")
    for level, lead_type, amount in (
        ("standard", "auto_insurance", "25.00"), ("standard", "", "15.00"),
        ("premium", "auto_insurance", "32.00"), ("premium", "solar", "28.00"), ("premium", "", "20.00"),
    )
]
LEAD_TYPES = ("auto_insurance", "solar", "mortgage", "home_security")


def _lead_sales(clients: list[dict]) -> list[dict]:
    """A few lead sales per month for every 4th client, in the demo months."""
    sales = []
    for no, client in enumerate(clients, start=1):
        if no % 4:
            continue
        for month in (8, 9, 10):
            for k in range(1 + no % 3):
                day = 1 + (no * 7 + k * 5 + month) % 27
                sold = f"2026-{month:02d}-{day:02d}T{8 + k:02d}:15:00Z"
                if client["start_date"] > sold[:10] or (client["cancel_date"] and client["cancel_date"] <= sold[:10]):
                    continue
                sales.append({
                    "reseller_id": client["reseller_id"], "sale_id": f"S-{no:04d}-{month:02d}-{k}",
                    "client_id": client["client_id"], "lead_id": f"L-{no:04d}-{month:02d}-{k}",
                    "lead_type": LEAD_TYPES[(no + k) % len(LEAD_TYPES)], "sold_at": sold,
                    "price": "45.00" if (no + k) % 11 == 0 else "",
                })
    return sales


def _manual_items(clients: list[dict]) -> list[dict]:
    items = []
    for no, client in enumerate(clients, start=1):
        if no % 9 == 0:
            items.append({"reseller_id": client["reseller_id"], "manual_item_id": f"M-{no:04d}",
                          "client_id": client["client_id"], "created_at": "2026-09-03T15:00:00Z",
                          "description": "Onboarding workshop", "amount": "350.00", "bill_mode": "now"})
        if no % 13 == 0:
            items.append({"reseller_id": client["reseller_id"], "manual_item_id": f"M-{no:04d}-CR",
                          "client_id": client["client_id"], "created_at": "2026-09-10T09:00:00Z",
                          "description": "Service credit", "amount": "-25.00", "bill_mode": "next_invoice"})
    return items


def _payments(clients: list[dict]) -> list[dict]:
    """Most clients pay a round sum on the 20th (more once usage starts in July); every third
    client never pays."""
    payments = []
    for no, client in enumerate(clients, start=1):
        if no % 3 == 1:
            continue
        for month in range(2, 11):
            payments.append({"reseller_id": client["reseller_id"], "payment_id": f"P-{no:04d}-{month:02d}",
                             "client_id": client["client_id"], "paid_at": f"2026-{month:02d}-20T12:00:00Z",
                             "amount": "1400.00" if month >= 8 else "150.00", "method": "card" if client["processor"] == "stripe" else "wire"})
    return payments


def _client_rows(n_clients: int) -> list[dict]:
    rows = []
    n_acme = n_clients * 3 // 5
    for i in range(1, n_clients + 1):
        rid = "R-ACME" if i <= n_acme else "R-EURO"
        groups = GROUPS[rid]
        start_offset = (i * 37) % 180
        start = f"2026-{1 + start_offset // 30:02d}-{1 + start_offset % 28:02d}"
        if i % 25 == 0:  # recent sign-ups, billed during their trial
            start = f"2026-{7 + (i // 25) % 3:02d}-{1 + i % 20:02d}"
        processor = ("stripe", "ach", "manual")[i % 3]
        rows.append({
            "reseller_id": rid, "client_id": f"C{i:04d}",
            "group_id": "" if i % 7 == 0 else groups[i % len(groups)],
            "name": f"Client {i:04d}", "start_date": start, "bill_day": str(1 + (i * 11) % 28),
            "cancel_date": "2026-09-15" if i == 42 else "", "processor": processor,
            "processor_customer_ref": {"stripe": f"cus_demo{i:05d}", "ach": f"ach_demo{i:05d}"}.get(processor, ""),
            "lead_price_level": "premium" if i % 8 == 0 else "",
        })
    return rows


def _write_csv(folder: Path, table: str, rows: list[dict], name: str = "extract.csv") -> None:
    columns = EXTRACT_TABLES[table].columns
    (folder / table).mkdir(parents=True, exist_ok=True)
    with (folder / table / name).open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow({c: row.get(c, "") for c in columns})


_EVENTS_SQL = """
copy (
    with numbered as (
        select range as n, hash(range, 'client') as h_client, hash(range, 'item') as h_item,
            hash(range, 'when') as h_when, hash(range, 'qty') as h_qty
        from range($n_events)
    ),
    -- skewed: low client numbers are the big accounts
    picked as (
        select numbered.*, clients.*,
            client_items[1 + (h_item % len(client_items))::integer] as item_code
        from numbered
        inner join sample_clients as clients
            on clients.client_no = 1 + floor(pow((h_client % 1000000) / 1000000.0, 1.6) * $n_clients)::integer
    ),
    final as (
        select
            picked.reseller_id,
            'E' || lpad(n::varchar, 8, '0') as event_id,
            picked.client_id,
            picked.item_code,
            cast(picked.usage_from + to_microseconds(
                (h_when % (epoch_us(picked.usage_to) - epoch_us(picked.usage_from)))::bigint) as timestamptz)
                as occurred_at,
            cast(shape.low + h_qty % (shape.high - shape.low + 1) as decimal(18, 6)) as quantity,
        from picked
        inner join sample_shapes as shape using (item_code)
        where picked.usage_to > picked.usage_from
    )
    select * from final order by event_id
) to '{target}' (format parquet)
"""


def write_sample(
    folder: Path, n_clients: int = 200, n_events: int = 1_000_000, usage_months: tuple[str, str] = USAGE_MONTHS,
) -> Path:
    """Write the sample extracts under `folder` (one sub-folder per table); usage falls in
    [usage_months[0], usage_months[1])."""
    clients = _client_rows(n_clients)
    _write_csv(folder, "resellers", RESELLERS)
    _write_csv(folder, "groups", [{"reseller_id": r, "group_id": g, "name": g.title()}
                                  for r, gs in GROUPS.items() for g in gs])
    _write_csv(folder, "clients", clients)
    _write_csv(folder, "billing_items", CUSTOM_ITEMS)
    _write_csv(folder, "pricing", _pricing_rows(clients))
    _write_csv(folder, "lead_price_levels", LEAD_PRICES)
    sales = _lead_sales(clients)
    _write_csv(folder, "lead_sales", sales)
    _write_csv(folder, "lead_returns", [
        {"reseller_id": sale["reseller_id"], "return_id": "RT" + sale["sale_id"][2:], "sale_id": sale["sale_id"],
         "returned_at": sale["sold_at"][:8] + f"{min(28, int(sale['sold_at'][8:10]) + 2):02d}" + sale["sold_at"][10:],
         "reason": "not a real lead"}
        for sale in sales[::17]
    ])
    _write_csv(folder, "manual_items", _manual_items(clients))
    _write_csv(folder, "payments", _payments(clients))

    con = duckdb.connect()
    con.execute("set TimeZone = 'UTC'")
    con.execute(
        "create table sample_clients (client_no integer, reseller_id varchar, client_id varchar, "
        "usage_from timestamp, usage_to timestamp, client_items varchar[])"
    )
    items_by_reseller = {
        r["reseller_id"]: [i for i in USAGE_SHAPE if i in ACCOUNT_PRICES]
        + [c["item_code"] for c in CUSTOM_ITEMS if c["reseller_id"] == r["reseller_id"]]
        for r in RESELLERS
    }
    con.executemany(
        "insert into sample_clients values (?, ?, ?, greatest(?::timestamp, ?::timestamp), "
        "least(?::timestamp, coalesce(nullif(?, '')::timestamp, ?::timestamp)), ?)",
        [
            (no, c["reseller_id"], c["client_id"], usage_months[0], c["start_date"], usage_months[1],
             c["cancel_date"], usage_months[1], items_by_reseller[c["reseller_id"]])
            for no, c in enumerate(clients, start=1)
        ],
    )
    con.execute("create table sample_shapes (item_code varchar, aggregation varchar, low bigint, high bigint)")
    con.executemany("insert into sample_shapes values (?, ?, ?, ?)",
                    [(item, *shape) for item, shape in USAGE_SHAPE.items()])
    (folder / "usage_events").mkdir(parents=True, exist_ok=True)
    target = str(folder / "usage_events" / "events.parquet").replace("'", "''")
    con.execute(_EVENTS_SQL.format(target=target), {"n_events": n_events, "n_clients": n_clients})
    con.close()

    first = clients[0]
    _write_csv(folder, "usage_events", [
        {"reseller_id": "R-ACME", "event_id": "LATE-1", "client_id": "C9999", "item_code": "sms",
         "occurred_at": "2026-08-03T10:00:00Z", "quantity": "5"},
        {"reseller_id": "R-ACME", "event_id": "LATE-2", "client_id": first["client_id"], "item_code": "sms",
         "occurred_at": "2026-08-03T10:00:00Z", "quantity": "-5"},
        {"reseller_id": "R-ACME", "event_id": "LATE-3", "client_id": first["client_id"], "item_code": "fax",
         "occurred_at": "2026-08-03T10:00:00Z", "quantity": "3"},
        {"reseller_id": "R-ACME", "event_id": "LATE-4", "client_id": first["client_id"], "item_code": "emails",
         "occurred_at": "2026-08-03", "quantity": "12"},
        {"reseller_id": "R-ACME", "event_id": "LATE-4", "client_id": first["client_id"], "item_code": "emails",
         "occurred_at": "2026-08-03", "quantity": "12"},
        {"reseller_id": "R-ACME", "event_id": "LATE-5", "client_id": first["client_id"], "item_code": "emails",
         "occurred_at": "yesterday", "quantity": "1"},
    ], name="late_fixes.csv")
    return folder
