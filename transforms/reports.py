"""Read-only questions asked of a published warehouse (`billing runs`, `billing diff`)."""

from pathlib import Path

import duckdb

from transforms.messages import one_line
from transforms.sqltext import scan_path
from transforms.warehouse import SQL_DIR, VIEW_DB


class NoWarehouse(Exception):
    """The folder holds no published warehouse."""


class QueryRefused(Exception):
    """An analyst's statement that is not a single read-only query, or that failed."""


def _query(warehouse: Path, report: str, params: dict) -> tuple[list[str], list[tuple]]:
    con = read_only(warehouse)
    try:
        sql = (SQL_DIR / "reports" / f"{report}.sql").read_text()
        result = con.execute(sql, {name: value for name, value in params.items() if f"${name}" in sql})
        return [c[0] for c in result.description], result.fetchall()
    finally:
        con.close()


def report_rows(warehouse: Path, report: str, params: dict) -> tuple[list[str], list[tuple]]:
    """The columns and rows of sql/reports/<report>.sql over the warehouse."""
    return _query(warehouse, report, params)


def runs_listed(warehouse: Path) -> tuple[list[str], list[tuple]]:
    return _query(warehouse, "runs_listed", {})


def rerun_changes(warehouse: Path, period: str) -> tuple[list[str], list[tuple]]:
    return _query(warehouse, "rerun_changes", {"period": period})


def invoice_explained(warehouse: Path, invoice_id: str) -> tuple[list[str], list[tuple]]:
    return _query(warehouse, "invoice_explained", {"invoice_id": invoice_id})


def read_only(warehouse: Path) -> duckdb.DuckDBPyConnection:
    """A connection that can only read the warehouse (reports and analysts' queries).

    The views file is opened read only; DuckDB may then touch no file outside the warehouse
    (no read_text('/etc/passwd'), no attach elsewhere), install or load no extension, and
    the settings are locked so a query cannot undo this. COPY ... TO and ATTACH could still
    write inside the warehouse: `read_only_statement` refuses every statement but a query."""
    db = warehouse / VIEW_DB
    if not db.exists():
        raise NoWarehouse(f"no billing warehouse at {warehouse} (run `billing run` first)")
    con = duckdb.connect(str(db), read_only=True, config={
        "autoinstall_known_extensions": False, "autoload_known_extensions": False,
    })
    root = warehouse.resolve()
    # the views name their files with glob characters escaped; the files themselves, as they are
    con.execute("set allowed_directories = $dirs", {"dirs": [f"{root}/", scan_path(root, "/")]})
    con.execute("set enable_external_access = false")
    con.execute("set lock_configuration = true")
    return con


QUERY_STATEMENTS = (duckdb.StatementType.SELECT, duckdb.StatementType.EXPLAIN)


def read_only_statement(sql: str) -> str:
    """The one query in `sql`, or QueryRefused: the analyst shell runs a single SELECT (or
    EXPLAIN of one), never COPY, ATTACH, INSTALL, SET, PRAGMA or DDL."""
    try:
        statements = duckdb.extract_statements(sql)
    except duckdb.Error as error:
        raise QueryRefused(f"cannot parse the query: {one_line(error)}") from None
    if len(statements) != 1:
        raise QueryRefused(f"give exactly one query, got {len(statements)} statements")
    statement = statements[0]
    if statement.type not in QUERY_STATEMENTS:
        raise QueryRefused(f"only a read-only query (select) is allowed, got {statement.type.name.lower()}")
    return sql


def period_tables(warehouse: Path, period: str) -> dict[str, list[dict]]:
    """The run artifacts: invoice summary, revenue by item and rejects by reason."""
    tables = {}
    for report in ("invoice_summary", "revenue_by_item", "rejects_summary"):
        columns, rows = _query(warehouse, report, {"period": period})
        tables[report] = [{c: (str(v) if v is not None else "") for c, v in zip(columns, row)} for row in rows]
    return tables
