"""`billing charges submit`: send pending charges to their processors, never twice.

The attempt log (warehouse table charge_attempts, one file per event, written before and
after every request) is the source of truth: a charge is marked in flight before the
request; a charge found in flight on the next submission is looked up at the processor by
our idempotency key and only sent again if the processor has no trace of it. The charges
table mirrors the log; succeeded charges become payment entries on the ledger.
"""

import os
import shutil
from dataclasses import dataclass, replace
from datetime import date, datetime, time
from pathlib import Path

import duckdb

from transforms import assets, models, warehouse
from transforms.banking_days import banking_days_after
from transforms.processors import AchFileProcessor, Charge, Outcome, ProcessorUnavailable, StripeProcessor
from transforms.sqltext import literal, scan_path

SQL_DIR = assets.SQL_DIR / "charging"


@dataclass
class SubmitSummary:
    sent: int = 0
    succeeded: int = 0
    declined: int = 0
    errors: int = 0
    reconciled: int = 0
    waiting: int = 0  # pending_confirmation: the processor is still working on it
    submitted: int = 0  # ACH debits written to a file
    settled: int = 0  # ACH debits past their return window: succeeded
    skipped: int = 0  # processor not configured: left pending


def default_processors(warehouse_dir: Path, now: datetime) -> dict:
    """Adapters by processor name, created on first use (so a missing key only matters
    when there is something to send through that processor)."""
    return {
        "stripe": lambda: StripeProcessor(),
        "ach": lambda: AchFileProcessor(warehouse_dir / "ach", now),
    }


class _AttemptLog:
    def __init__(self, con: duckdb.DuckDBPyConnection, warehouse_dir: Path, now: datetime):
        self.con, self.warehouse_dir, self.now = con, warehouse_dir, now
        self.events: dict[str, int] = dict(
            con.execute("select charge_id, max(event_no) from prior_charge_attempts group by all").fetchall()
        )

    def record(self, row: dict, attempt_no: int, outcome: str, reference: str | None, message: str,
               at: datetime | None = None) -> None:
        """Write one event durably (its own file, renamed into place) before going on."""
        event_no = self.events.get(row["charge_id"], 0) + 1
        self.events[row["charge_id"]] = event_no
        target = self.warehouse_dir / "charge_attempts" / f"period={row['period']}" / f"{row['charge_id']}-{event_no:04d}.parquet"
        target.parent.mkdir(parents=True, exist_ok=True)
        temp = target.with_suffix(".tmp")
        self.con.execute(
            f"copy (select $charge_id::varchar as charge_id, $event_no::bigint as event_no, "
            f"$attempt_no::bigint as attempt_no, $outcome::varchar as outcome, $reference::varchar as "
            f"processor_reference, $message::varchar as message, $at::timestamp as attempted_at) "
            f"to {literal(str(temp))} (format parquet)",
            {"charge_id": row["charge_id"], "event_no": event_no, "attempt_no": attempt_no, "outcome": outcome,
             "reference": reference, "message": message, "at": (at or self.now).replace(tzinfo=None)},
        )
        with temp.open("rb") as handle:
            os.fsync(handle.fileno())
        os.replace(temp, target)


def submit(
    warehouse_dir: Path, today: date, now: datetime, processor: str | None = None, processors: dict | None = None,
    sync_only: bool = False,
) -> SubmitSummary:
    """The charge batch of `today`: import ACH return files dropped into ach/returns/, send
    every due charge (optionally of one processor), ask the processors about charges still
    in progress, and mark ACH debits that outlived their return window as succeeded.
    sync_only: only ask about charges still in progress (`billing charges sync`).

    A failure that belongs to one charge is that charge's outcome and the batch goes on; each
    outcome is in the attempt log (durably) before the next charge is sent."""
    summary = SubmitSummary()
    with warehouse.locked(warehouse_dir):
        warehouse.recover(warehouse_dir)
        if not sync_only:
            from transforms import ach_returns

            ach_returns.import_dropped(warehouse_dir, today, now)
        con = models.connect()
        warehouse.load_prior(con, warehouse_dir, "*")
        models.build_model(con, "stg_currency_minor_units")
        due = con.execute((SQL_DIR / "charges_due.sql").read_text(),
                          {"processor": processor, "today": today, "sync_only": True if sync_only else None})
        columns = [c[0] for c in due.description]
        rows = [dict(zip(columns, values)) for values in due.fetchall()]
        factories = processors or default_processors(warehouse_dir, now)
        adapters, log = {}, _AttemptLog(con, warehouse_dir, now)
        pending_outcomes = []
        for row in rows:
            try:
                adapter = adapters.get(row["processor"]) or adapters.setdefault(
                    row["processor"], factories[row["processor"]]())
            except ProcessorUnavailable:
                summary.skipped += 1  # e.g. no API key here: the charge stays pending
                continue
            attempt_no, outcome = _collect(adapter, row, log, summary, send=not sync_only)
            if outcome is None:
                continue
            if (isinstance(adapter, AchFileProcessor) and outcome.status == "submitted"
                    and not outcome.message.startswith("reconciled")):
                pending_outcomes.append((row, attempt_no, outcome))  # recorded once the file exists
            else:
                log.record(row, attempt_no, outcome.status, outcome.processor_reference, outcome.message)
                _count(summary, outcome)
        ach = adapters.get("ach")
        if ach is not None:
            ach.flush()  # the file exists before any ACH debit is recorded as submitted
        for row, attempt_no, outcome in pending_outcomes:
            log.record(row, attempt_no, outcome.status, outcome.processor_reference, outcome.message)
            _count(summary, outcome)
        if not sync_only:
            _settle_ach(con, log, today, summary)
        publish_outcomes(con, warehouse_dir, now)
        con.close()
    return summary


def _settle_ach(con: duckdb.DuckDBPyConnection, log: "_AttemptLog", today: date, summary: SubmitSummary) -> None:
    """An ACH debit with no return by the 5th banking day after its submission is succeeded
    (dated that day); a return can still reverse it later."""
    waiting = con.execute((SQL_DIR / "ach_submitted.sql").read_text()).fetchall()
    for charge_id, period, attempt_no, trace, submitted_at in waiting:
        settled_on = banking_days_after(submitted_at.date(), 5)
        if settled_on <= today:
            log.record({"charge_id": charge_id, "period": period}, attempt_no, "succeeded", trace,
                       f"no return by {settled_on}, the 5th banking day", at=datetime.combine(settled_on, time()))
            summary.settled += 1


def _collect(adapter, row: dict, log: "_AttemptLog", summary: SubmitSummary,
             send: bool = True) -> tuple[int, Outcome | None]:
    """One charge: reconcile what the processor may already hold, then (if still owed and
    `send`) one attempt to collect it. Returns the attempt number and its outcome (None:
    nothing new)."""
    charge = Charge(row["charge_id"], row["idempotency_key"], row["reseller_id"], row["client_id"],
                    row["invoice_id"], row["revision"], row["processor_customer_ref"], row["amount"],
                    row["currency"], row["minor_unit"], row["last_reference"])
    # in flight, errored or waiting: the processor may have acted on it, so look before sending
    unsure = row["state"] in ("in_flight", "error", "pending_confirmation")
    attempt_no = max(row["attempts_made"], 1) if unsure else row["attempts_made"] + 1
    try:
        if unsure:
            found = adapter.find(charge, attempt_no)
            if found is not None and found.status != "requires_confirmation":
                summary.reconciled += 1
                if found.status == row["state"] == "pending_confirmation":
                    return attempt_no, None  # still in progress at the processor: ask again next batch
                return attempt_no, Outcome(found.status, found.processor_reference, "reconciled: " + found.message)
            if found is not None:  # created, never confirmed: complete this attempt, don't abandon it
                charge = replace(charge, processor_reference=found.processor_reference)
        if not send:
            return attempt_no, None  # `charges sync` only asks
        log.record(row, attempt_no, "in_flight", charge.processor_reference, "sent")
        summary.sent += 1
        return attempt_no, adapter.charge(charge, attempt_no)
    except ProcessorUnavailable as exc:
        return attempt_no, Outcome("error", charge.processor_reference, str(exc))
    except Exception as exc:  # noqa: BLE001 - one charge's failure is its outcome, never the batch's
        return attempt_no, Outcome("error", charge.processor_reference,
                                   f"{type(exc).__name__}: {str(exc).strip()[:200]}")


def _count(summary: SubmitSummary, outcome: Outcome) -> None:
    if outcome.status == "succeeded":
        summary.succeeded += 1
    elif outcome.status == "declined":
        summary.declined += 1
    elif outcome.status == "pending_confirmation":
        summary.waiting += 1
    elif outcome.status == "submitted":
        summary.submitted += 1
    else:
        summary.errors += 1


def publish_outcomes(con: duckdb.DuckDBPyConnection, warehouse_dir: Path, now: datetime) -> None:
    """Mirror the attempt log into the charges table and post payments to the ledger."""
    warehouse.load_prior(con, warehouse_dir, "*", tables=("charge_attempts",))  # the rest is as loaded
    con.execute(f"create or replace table charges_state as {(SQL_DIR / 'charges_state.sql').read_text()}")
    con.execute(f"create or replace table charge_payments as {(SQL_DIR / 'charge_payments_proposed.sql').read_text()}")
    models.build_ledger(con, "charge_payments")
    submit_id = now.strftime("submit-%Y%m%dT%H%M%S%f")
    pub = warehouse.Publication(warehouse_dir, warehouse.staging_dir(warehouse_dir, submit_id), submit_id)
    try:
        for path in sorted((warehouse_dir / "charges").glob("reseller_id=*/period=*/data.parquet")):
            relative = str(path.relative_to(warehouse_dir))
            pub.stage_query(con, relative, f"""
                select c.* replace (
                    coalesce(s.status, c.status) as status,
                    coalesce(s.attempts, c.attempts) as attempts,
                    coalesce(s.processor_reference, c.processor_reference) as processor_reference,
                    coalesce(s.status_reason, c.status_reason) as status_reason
                )
                from read_parquet({literal(scan_path(path))}, hive_partitioning = false) c
                left join charges_state s using (charge_id)
                order by charge_id""", {})
        warehouse.stage_partitioned(pub, con, "ledger", None)  # ledger entries are appended: no range
        pub.commit()
        warehouse.refresh_views(warehouse_dir)  # the attempt log is new files, outside the commit
    finally:
        if not warehouse.is_publishing(warehouse_dir):  # else the next command finishes the moves
            shutil.rmtree(pub.staging, ignore_errors=True)
