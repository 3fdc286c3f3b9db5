"""Test helpers: write tiny extracts, bill them, read the warehouse back."""

import csv
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import duckdb

from transforms.contract import EXTRACT_TABLES
from transforms.pipeline import run_period

R1 = {"reseller_id": "R1", "name": "Reseller One", "currency": "USD", "net_days": "0"}


def client(client_id: str, group_id: str = "", start: str = "2026-01-01", bill_day: int = 1, **extra) -> dict:
    row = {
        "reseller_id": "R1", "client_id": client_id, "group_id": group_id, "name": client_id,
        "start_date": start, "bill_day": str(bill_day), "processor": "manual",
    }
    row.update(extra)
    return row


def price(item_code: str, level: str = "account", effective_from: str = "2026-01-01", **options) -> dict:
    row = {"reseller_id": "R1", "level": level, "item_code": item_code, "effective_from": effective_from}
    row.update({k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in options.items()})
    return row


def usage(event_id: str, client_id: str, item_code: str, occurred_at: str, quantity, **extra) -> dict:
    row = {
        "reseller_id": "R1", "event_id": event_id, "client_id": client_id, "item_code": item_code,
        "occurred_at": occurred_at, "quantity": str(quantity),
    }
    row.update(extra)
    return row


def write_extracts(folder: Path, tables: dict[str, list[dict]], file_name: str = "part-1.csv") -> Path:
    """One CSV per table with every contract column (missing cells empty)."""
    for table, rows in tables.items():
        columns = EXTRACT_TABLES[table].columns
        (folder / table).mkdir(parents=True, exist_ok=True)
        with (folder / table / file_name).open("w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=columns)
            writer.writeheader()
            for row in rows:
                writer.writerow({c: row.get(c, "") for c in columns})
    return folder


def bill(extracts: Path, warehouse: Path, period: str, as_of: date | None = None, second: int = 0,
         validate: bool = False):
    """Bill a period; the GX suites are skipped unless asked (test_validation.py runs them)."""
    as_of = as_of or date.fromisoformat(period + "-28")
    return run_period(extracts, warehouse, period, as_of, datetime(2026, 11, 25, 12, 0, second), validate=validate)


def bill_periods(folder: Path, tables: dict[str, list[dict]], periods=("2026-10",)) -> Path:
    """Write the tables (R1 and client C1 unless given) and bill the periods in order."""
    extracts = write_extracts(folder / "ex", {"resellers": [R1], "clients": [client("C1")], **tables})
    warehouse = folder / "wh"
    for second, period in enumerate(periods):
        bill(extracts, warehouse, period, second=second)
    return warehouse


def query(warehouse: Path, sql: str, params=None) -> list[tuple]:
    con = duckdb.connect(str(warehouse / "billing.duckdb"), read_only=True)
    try:
        return con.execute(sql, params or {}).fetchall()
    finally:
        con.close()


def lines(warehouse: Path, client_id: str, invoice_date: str, item_code: str | None = None) -> list[tuple]:
    """(item_code, line_type, quantity, unit_price, amount) of a client's cycle invoice, all revisions."""
    sql = """
        select l.item_code, l.line_type, l.quantity, l.unit_price, l.amount
        from invoice_lines l
        join invoices i using (invoice_id, revision)
        where i.client_id = $client and i.invoice_date = $date::date
          and ($item is null or l.item_code = $item)
        order by l.revision, l.line_no
    """
    return query(warehouse, sql, {"client": client_id, "date": invoice_date, "item": item_code})


def e2_tables() -> dict[str, list[dict]]:
    """examples.md E2: users priced at three levels for C2, C3 (group G1) and C4 (no group)."""
    return {
        "resellers": [R1],
        "groups": [{"reseller_id": "R1", "group_id": "G1", "name": "Group one"}],
        "clients": [client("C2", "G1"), client("C3", "G1"), client("C4")],
        "pricing": [
            price("users", metered=True, unit_fee="25.00", included_units=1),
            price("users", level="group", group_id="G1", unit_fee="20.00"),
            price("users", level="client", client_id="C2", included_units=3),
        ],
        "usage_events": [
            usage(f"u-{c}-{i}", c, "users", f"2026-09-{10 + i:02d}T00:00:00Z", n)
            for c in ("C2", "C3", "C4") for i, n in enumerate((3, 5, 4))
        ],
    }


def D(text: str) -> Decimal:
    return Decimal(text)
