"""Prefect flow `charge-batch`: send the pending charges and write manual invoice
documents (wiring only; the rules are in transforms/charging.py). The nightly flow runs it
after billing. The Stripe key comes from STRIPE_API_KEY or the Prefect Secret block
`stripe-api-key`; it is read inside the task, so it is never a task parameter or a log line.
"""

from datetime import UTC, date, datetime
from pathlib import Path

from prefect import flow, task
from prefect.artifacts import create_table_artifact
from prefect.cache_policies import NO_CACHE

from transforms import charging, documents, settings
from transforms.processors import StripeProcessor


def _stripe_key() -> str | None:
    key = settings.current().stripe_api_key
    if key is not None and key.get_secret_value():
        return key.get_secret_value()
    try:
        from prefect.blocks.system import Secret

        return Secret.load("stripe-api-key").get()
    except Exception:  # no block configured: Stripe charges stay pending
        return None


@task(cache_policy=NO_CACHE)
def submit_charges(warehouse_dir: Path, processor: str | None, as_of: date | None, sync_only: bool) -> dict:
    now = datetime.now(UTC)
    if as_of is not None:  # a batch replayed for a past (or given) day is dated that day
        now = datetime.combine(as_of, now.time(), UTC)
    factories = charging.default_processors(warehouse_dir, now)
    key = _stripe_key()
    if key:
        factories["stripe"] = lambda: StripeProcessor(api_key=key)
    summary = charging.submit(warehouse_dir, now.date(), now, None if processor == "manual" else processor, factories,
                              sync_only=sync_only)
    return vars(summary)


@task(cache_policy=NO_CACHE)
def write_invoice_documents(warehouse_dir: Path) -> int:
    return len(documents.write_documents(warehouse_dir))


@flow(name="charge-batch", log_prints=True)
def charge_batch(warehouse_dir: Path, processor: str | None = None, as_of: date | None = None,
                 sync_only: bool = False) -> dict:
    """The charge batch of a day (default: today, UTC): return files, due charges, charges in
    progress, ACH debits past their return window; the HTML document of every new invoice revision. sync_only: only
    ask the processors about charges still in progress."""
    result = {}
    if processor in (None, "stripe", "ach"):
        result = submit_charges(warehouse_dir, processor, as_of, sync_only)
    if processor in (None, "manual") and not sync_only:
        result["documents"] = write_invoice_documents(warehouse_dir)
    create_table_artifact(key="charge-batch", table=[result], description="Charge batch")
    return result
