"""Read-only questions asked of a published warehouse (`billing runs`, `billing diff`)."""

from pathlib import Path

import duckdb

from transforms.warehouse import SQL_DIR, VIEW_DB


class NoWarehouse(Exception):
    """The folder holds no published warehouse."""


def _query(warehouse: Path, report: str, params: dict) -> tuple[list[str], list[tuple]]:
    con = read_only(warehouse)
    try:
        result = con.execute((SQL_DIR / "reports" / f"{report}.sql").read_text(), params)
        return [c[0] for c in result.description], result.fetchall()
    finally:
        con.close()


def runs_listed(warehouse: Path) -> tuple[list[str], list[tuple]]:
    return _query(warehouse, "runs_listed", {})


def rerun_changes(warehouse: Path, period: str) -> tuple[list[str], list[tuple]]:
    return _query(warehouse, "rerun_changes", {"period": period})


def invoice_explained(warehouse: Path, invoice_id: str) -> tuple[list[str], list[tuple]]:
    return _query(warehouse, "invoice_explained", {"invoice_id": invoice_id})


def read_only(warehouse: Path) -> duckdb.DuckDBPyConnection:
    """A read-only connection to the warehouse views (for reports and analysts' queries)."""
    db = warehouse / VIEW_DB
    if not db.exists():
        raise NoWarehouse(f"no billing warehouse at {warehouse} (run `billing run` first)")
    return duckdb.connect(str(db), read_only=True)


def period_tables(warehouse: Path, period: str) -> dict[str, list[dict]]:
    """The run artifacts: invoice summary, revenue by item and rejects by reason."""
    tables = {}
    for report in ("invoice_summary", "revenue_by_item", "rejects_summary"):
        columns, rows = _query(warehouse, report, {"period": period})
        tables[report] = [{c: (str(v) if v is not None else "") for c, v in zip(columns, row)} for row in rows]
    return tables
