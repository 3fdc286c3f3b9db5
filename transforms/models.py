"""Build the SQL models of sql/ into a DuckDB database, in dependency order.

Each model is one file whose name is the table it creates; it is materialised with
`create or replace table <name> as <file>`. The one template, int_rows_deduplicated.sql,
is built once per extract table (only identifiers are filled in; values are bound).
The run's parameters (period, horizon, as-of date, run id) live in the one-row table
`run_params`, so no model reads a clock or has a value pasted into it.
"""

import os
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb

from transforms import assets
from transforms.contract import EXTRACT_TABLES

SQL_DIR = assets.SQL_DIR

SEEDS = ("stg_standard_items", "stg_currency_minor_units")

# Extract tables in reference order: a table's validation reads those before it.
VALIDATION_ORDER = (
    "resellers",
    "groups",
    "clients",
    "billing_items",
    "pricing",
    "usage_events",
    "lead_price_levels",
    "lead_sales",
    "lead_returns",
    "manual_items",
    "payments",
)

# Tables whose only reference is their client: validated by one shared template.
CLIENT_CHECKED = ("manual_items", "payments")

# Models that need another model built first, beyond the per-table validation chain.
AFTER_VALIDATION = {
    "resellers": ("int_reseller_references",),
    "clients": ("int_client_references",),
    "billing_items": ("int_items_offered_by_resellers",),
}

BILLING_MODELS = (
    "int_input_rows_reconciled",
    "int_clients_billable",
    "int_prices_resolved_by_hierarchy",
    "int_prepaid_clients",
    "int_clients_listed_for_range",
    "int_usage_aggregated_daily",
    "int_cycle_starts_listed",
    "int_cycles_priced_and_windowed",
    "int_usage_rolled_up_to_cycles",
    "int_allotments_applied_across_cycles",
    "int_cycle_lines_priced",
    "int_manual_lines_priced",
    "int_lead_lines_priced",
    "int_prepaid_usage_drawn_daily",
    "int_prepaid_balance_daily",
    "int_prepaid_lines_priced",
    "int_invoice_lines_wanted",
    "int_invoice_revisions_compared",
    "invoice_lines",
    "invoices",
    "charges",
    "int_prepaid_ledger_entries",
    "int_ledger_entries_proposed",
    "ledger",
    "account_status",
    "usage_summary",
    "rejects",
)


@dataclass(frozen=True)
class RunParams:
    """What one run bills: the bill dates in [range_start, range_end) (a whole period, or
    one night), with usage up to range_end; `as_of` is the day adjustments are issued."""

    run_id: str
    command: str  # run | nightly | demo | preview | simulate
    range_start: date
    range_end: date  # exclusive
    as_of: date
    usage_until: date | None = None  # exclusive; usage up to range_end unless given (a preview)

    @property
    def period(self) -> str:
        """The YYYY-MM period the range's bill dates belong to (a range never spans two)."""
        return self.range_start.strftime("%Y-%m")

    @property
    def status_date(self) -> date:
        """Account status is computed as of the range's last day."""
        return date.fromordinal(self.range_end.toordinal() - 1)


def connect(db_path: Path | str = ":memory:") -> duckdb.DuckDBPyConnection:
    """A DuckDB connection with the macros; BILLING_DUCKDB_MEMORY_LIMIT (e.g. 2GB) caps it."""
    con = duckdb.connect(str(db_path))
    con.execute("set TimeZone = 'UTC'")
    con.execute("set enable_progress_bar = false")  # Dask workers would print it into the run's output
    memory_limit = os.environ.get("BILLING_DUCKDB_MEMORY_LIMIT")
    if memory_limit:
        con.execute("set memory_limit = $limit", {"limit": memory_limit})
    con.execute(_read("macros.sql"))
    return con


def _read(relative: str) -> str:
    return (SQL_DIR / relative).read_text()


def read_model(name: str) -> str:
    """A model's SQL."""
    return _read(_model_path(name))


def _model_path(name: str) -> str:
    if name.startswith("stg_"):
        return f"staging/{name}.sql"
    if name.startswith("int_"):
        return f"intermediate/{name}.sql"
    return f"marts/{name}.sql"


# Models read by exactly one other model, built as views: the reader computes them in its own
# query, so their millions of wide rows are never written out (bench/results.md).
VIEW_MODELS = ("int_cycle_starts_listed", "int_usage_rolled_up_to_cycles")


def build_model(con: duckdb.DuckDBPyConnection, name: str) -> None:
    if name == "ledger":
        build_ledger(con, "int_ledger_entries_proposed")
        return
    kind = "view" if name in VIEW_MODELS else "table"
    con.execute(f"create or replace {kind} {name} as {_read(_model_path(name))}")


def build_ledger(con: duckdb.DuckDBPyConnection, proposed: str) -> None:
    """The ledger entries to post from a table of proposed entries (see marts/ledger.sql)."""
    con.execute(f"create or replace table ledger as {_read('marts/ledger.sql').format(proposed=proposed)}")


def build_staging(con: duckdb.DuckDBPyConnection) -> None:
    """Seeds, then every extract table: typed (stg_), deduplicated, validated (int_)."""
    for seed in SEEDS:
        build_model(con, seed)
    for table in VALIDATION_ORDER:
        build_model(con, f"stg_{table}")
        _build_deduplicated(con, table)
        if table in CLIENT_CHECKED:
            sql = _read("intermediate/int_rows_client_checked.sql").format(table=table)
            con.execute(f"create or replace table int_{table}_validated as {sql}")
        else:
            build_model(con, f"int_{table}_validated")
        for follower in AFTER_VALIDATION.get(table, ()):
            build_model(con, follower)


def _build_deduplicated(con: duckdb.DuckDBPyConnection, table: str) -> None:
    spec = EXTRACT_TABLES[table]
    # The label is the contract's key column names (code, never input), so a view can hold it
    # as a literal; a view, because the validation reads it once: 10M events are not copied again.
    sql = _read("intermediate/int_rows_deduplicated.sql").format(
        table=table, key_columns=", ".join(spec.key), key_names=" / ".join(spec.key),
        key_label="'" + spec.key_label + "'",
    )
    con.execute(f"create or replace view int_{table}_deduplicated as {sql}")


def set_run_params(con: duckdb.DuckDBPyConnection, params: RunParams) -> None:
    con.execute(
        "create or replace table run_params as select $run_id::varchar as run_id, "
        "$command::varchar as command, $period::varchar as period, $range_start::date as range_start, "
        "$range_end::date as range_end, $status_date::date as status_date, $as_of::date as as_of, "
        "$usage_until::date as usage_until",
        {
            "run_id": params.run_id,
            "command": params.command,
            "period": params.period,
            "range_start": params.range_start,
            "range_end": params.range_end,
            "status_date": params.status_date,
            "as_of": params.as_of,
            "usage_until": params.usage_until or params.range_end,
        },
    )


def build_billing(con: duckdb.DuckDBPyConnection) -> None:
    """Pricing, cycles, usage and the output marts (needs staging and prior_* tables)."""
    for name in BILLING_MODELS:
        build_model(con, name)
