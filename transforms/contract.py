"""The extract tables of data-contract.md: their columns and keys.

Column names are fixed by the contract. Every column is read as text and typed in the
staging models (sql/staging), so that a bad cell becomes a reject with a reason instead of
failing the whole file.
"""

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

# Columns shown masked wherever the raw row is kept (rejects): card numbers never enter
# the warehouse (data-contract.md "Extracts").
MASKED_COLUMNS = {("clients", "processor_customer_ref")}
