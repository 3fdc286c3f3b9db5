"""The extract tables of data-contract.md: their columns and keys.

Column names are fixed by the contract. Every column is read as text and typed in the
staging models (sql/staging), so that a bad cell becomes a reject with a reason instead of
failing the whole file; the event columns a Parquet file holds as numbers or timestamps
(TYPED_COLUMNS) are read as they are instead, and only a value the contract does not
allow goes through the text check.
"""

import re
from dataclasses import dataclass

PRICING_OPTIONS = (
    "enabled",
    "cycle_fee",
    "cycle_months",
    "trial_days",
    "unit_fee",
    "included_units",
    "bonus_units",
    "metered",
    "overage_fee",
    "max_units",
    "min_units",
    "lockout_when_owing",
    "replenishment_amount",
)


@dataclass(frozen=True)
class ExtractTable:
    name: str
    key: tuple[str, ...]
    columns: tuple[str, ...]

    @property
    def key_label(self) -> str:
        """How a finance reader names the key in a reject reason."""
        business_key = [c for c in self.key if c != "reseller_id"]
        return ", ".join(business_key)


EXTRACT_TABLES: dict[str, ExtractTable] = {
    t.name: t
    for t in (
        ExtractTable(
            "resellers",
            ("reseller_id",),
            ("reseller_id", "name", "currency", "net_days", "lead_price_level"),
        ),
        ExtractTable(
            "groups",
            ("reseller_id", "group_id"),
            ("reseller_id", "group_id", "name", "lead_price_level"),
        ),
        ExtractTable(
            "clients",
            ("reseller_id", "client_id"),
            (
                "reseller_id", "client_id", "group_id", "name", "start_date", "bill_day",
                "cancel_date", "processor", "processor_customer_ref", "lead_price_level",
            ),
        ),
        ExtractTable(
            "billing_items",
            ("reseller_id", "item_code"),
            ("reseller_id", "item_code", "name", "unit", "aggregation"),
        ),
        ExtractTable(
            "pricing",
            ("reseller_id", "level", "group_id", "client_id", "item_code", "effective_from"),
            ("reseller_id", "level", "group_id", "client_id", "item_code", "effective_from")
            + PRICING_OPTIONS,
        ),
        ExtractTable(
            "usage_events",
            ("reseller_id", "event_id"),
            ("reseller_id", "event_id", "client_id", "item_code", "occurred_at", "quantity"),
        ),
        ExtractTable(
            "lead_price_levels",
            ("reseller_id", "level_code", "lead_type", "effective_from"),
            ("reseller_id", "level_code", "lead_type", "price", "effective_from"),
        ),
        ExtractTable(
            "lead_sales",
            ("reseller_id", "sale_id"),
            ("reseller_id", "sale_id", "client_id", "lead_id", "lead_type", "sold_at", "price"),
        ),
        ExtractTable(
            "lead_returns",
            ("reseller_id", "return_id"),
            ("reseller_id", "return_id", "sale_id", "returned_at", "reason"),
        ),
        ExtractTable(
            "manual_items",
            ("reseller_id", "manual_item_id"),
            (
                "reseller_id", "manual_item_id", "client_id", "created_at", "description",
                "amount", "bill_mode",
            ),
        ),
        ExtractTable(
            "payments",
            ("reseller_id", "payment_id"),
            ("reseller_id", "payment_id", "client_id", "paid_at", "amount", "method", "invoice_id"),
        ),
    )
}

# Event columns read typed, without a text round trip, when a Parquet file stores them in
# one of these DuckDB types: the raw view then carries `_typed_<column>` (the value when it
# passes the type's guard, a check every valid value passes) and the text column only for a
# value that fails it, so stg_usage_events gives that value the reason a CSV cell would get.
# quantity: at most 12 integer digits and 6 decimals (data-contract.md); occurred_at: an
# instant, read in UTC. A DOUBLE quantity stands for the decimal a CSV would hold for it (its
# shortest text): rounded to 6 decimals it gives the same double back, and below 2^33 (a
# step under 1e-6) that rounding is the decimal exactly. As text, DuckDB writes a small
# double in exponent form (0.00005 as 5e-05), which the text check refuses; -0.0, larger
# doubles and FLOAT (too coarse for 6 decimals) take the text path. A nanosecond timestamp
# takes it too: text truncates to microseconds, a cast would round an event into the next
# second, or day.
TYPED_COLUMNS = {
    ("usage_events", "quantity"): ("decimal(18, 6)", (
        (r"U?(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT)|DECIMAL\(\d+,\d+\)",
         "{value} = round({value}, 6) and abs({value}) < 1000000000000"),
        (r"DOUBLE",
         "coalesce(not signbit({value}) and abs({value}) < 8589934592 "
         "and try_cast(try_cast({value} as decimal(18, 6)) as double) = {value}, false)"),
    )),
    ("usage_events", "occurred_at"): ("timestamp", ((r"TIMESTAMP|TIMESTAMP WITH TIME ZONE", "true"),)),
}


def typed_guard(table: str, column: str, parquet_type: str) -> str | None:
    """The guard (with a `{value}` placeholder) under which a Parquet column of this type is
    read as it is, or None when it is read as text (see TYPED_COLUMNS)."""
    _, readings = TYPED_COLUMNS.get((table, column), (None, ()))
    return next((guard for types, guard in readings if re.fullmatch(types, parquet_type)), None)


# Columns shown masked wherever the raw row is kept (rejects): card numbers never enter
# the warehouse (data-contract.md "Extracts").
MASKED_COLUMNS = {("clients", "processor_customer_ref")}
