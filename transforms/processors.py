"""Payment processor adapters (billing-rules.md section 9).

Each adapter charges one pending charge and can look one up by our idempotency key, so an
interrupted submission is reconciled with the processor before anything is sent again.
Keys and originator details come from the environment (or a Prefect Secret block, read
by the flow); they are never logged or written to the warehouse.
"""

import hashlib
import os
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path

from transforms import settings
from transforms.messages import one_line


class ProcessorUnavailable(Exception):
    """The processor could not be reached or answered with a server error: retry later."""


@dataclass(frozen=True)
class Charge:
    charge_id: str
    idempotency_key: str  # the charge's key: its one payment object at the processor is created under it
    reseller_id: str
    client_id: str
    invoice_id: str
    revision: int
    processor_customer_ref: str
    amount: Decimal
    currency: str
    minor_unit: int  # the currency's decimals (sql/staging/stg_currency_minor_units.sql)
    processor_reference: str | None = None  # the payment object an earlier attempt made, if known

    def attempt_key(self, attempt_no: int) -> str:
        """Each attempt to collect is its own request: a processor that replays its answer to
        a repeated key (Stripe, for 24 hours) is really asked again on a retry."""
        return f"{self.idempotency_key}-attempt-{attempt_no}"


@dataclass(frozen=True)
class Outcome:
    # succeeded | declined | error | pending_confirmation | submitted (ACH), or (from `find` only)
    # requires_confirmation: a payment object was created but never confirmed
    status: str
    processor_reference: str | None
    message: str


def minor_units(charge: Charge) -> int:
    """The charge's amount in its currency's smallest unit (cents), as processors want it."""
    return int(charge.amount.scaleb(charge.minor_unit))


class StripeProcessor:
    """PaymentIntents on the official SDK: the client's saved card, charged off-session.

    One PaymentIntent per charge, created under the charge's idempotency key and found again
    by its id (kept on the charge) or among the customer's PaymentIntents by our metadata;
    each confirmation (first attempt and every retry) is sent under its own attempt key.
    Every error that belongs to one charge (a card error, an unknown customer, a rejected
    request) becomes that charge's outcome with Stripe's reason; connection, rate-limit,
    authentication and server errors are ProcessorUnavailable (an `error` to reconcile later).
    STRIPE_API_KEY is required; STRIPE_API_BASE points the SDK at another server.
    """

    name = "stripe"

    def __init__(self, api_key: str | None = None, api_base: str | None = None, client=None):
        import stripe

        self._stripe = stripe
        if client is not None:  # an SDK client given as it is (tests: a stub with Stripe's key semantics)
            self._client = client
            return
        config = settings.current()
        key = api_key or (config.stripe_api_key.get_secret_value() if config.stripe_api_key else None)
        if not key:
            raise ProcessorUnavailable("STRIPE_API_KEY is not set")
        base = api_base or config.stripe_api_base
        options = {"base_addresses": {"api": base}} if base else {}
        self._client = stripe.StripeClient(key, max_network_retries=0, **options).v1

    def _call(self, fn, *args, **kwargs):
        stripe = self._stripe
        try:
            return fn(*args, **kwargs)
        except (stripe.APIConnectionError, stripe.RateLimitError, stripe.AuthenticationError,
                stripe.PermissionError) as exc:
            raise ProcessorUnavailable(f"stripe unavailable: {type(exc).__name__}") from None
        except stripe.APIError as exc:
            raise ProcessorUnavailable(f"stripe server error: {type(exc).__name__}") from None

    def find(self, charge: Charge, attempt_no: int = 1) -> Outcome | None:
        """What Stripe holds for this charge: the outcome of its PaymentIntent, or None."""
        try:
            intent = self._intent(charge)
        except self._stripe.InvalidRequestError as exc:  # e.g. the customer no longer exists
            return Outcome("declined", charge.processor_reference, _reason(exc))
        return None if intent is None else self._outcome(intent)

    def _intent(self, charge: Charge):
        """The charge's PaymentIntent: by the id an attempt recorded, else among the customer's
        (a query that scales with one customer, not with the account)."""
        if charge.processor_reference:
            return self._call(self._client.payment_intents.retrieve, charge.processor_reference)
        starting_after = None
        while True:
            params = {"customer": charge.processor_customer_ref, "limit": 100}
            page = self._call(self._client.payment_intents.list,
                              params | ({"starting_after": starting_after} if starting_after else {}))
            for intent in page.data:
                metadata = intent.metadata.to_dict() if intent.metadata else {}
                if metadata.get("idempotency_key") == charge.idempotency_key:
                    return intent
            if not page.has_more or not page.data:
                return None
            starting_after = page.data[-1].id

    def charge(self, charge: Charge, attempt_no: int = 1) -> Outcome:
        """Attempt `attempt_no` to collect the charge: its PaymentIntent (made now on a first
        attempt, found again on a retry or a completion) confirmed under the attempt's key."""
        intent = None
        try:
            if attempt_no > 1 or charge.processor_reference:
                intent = self._intent(charge)
                if intent is not None and intent.status not in ("requires_confirmation", "requires_payment_method"):
                    return self._outcome(intent)  # paid, or still in progress: nothing to send
            methods = self._call(
                self._client.payment_methods.list, {"customer": charge.processor_customer_ref, "type": "card"})
            if not methods.data:
                return Outcome("declined", intent.id if intent else None, "no saved card for the customer")
            if intent is None:
                metadata = {"idempotency_key": charge.idempotency_key, "charge_id": charge.charge_id,
                            "invoice_id": charge.invoice_id, "revision": str(charge.revision)}
                intent = self._call(
                    self._client.payment_intents.create,
                    {"amount": minor_units(charge), "currency": charge.currency.lower(),
                     "customer": charge.processor_customer_ref, "payment_method": methods.data[0].id,
                     "metadata": metadata},
                    {"idempotency_key": charge.idempotency_key},
                )
            intent = self._call(
                self._client.payment_intents.confirm, intent.id,
                {"payment_method": methods.data[0].id, "off_session": True},
                {"idempotency_key": charge.attempt_key(attempt_no)},
            )
        except self._stripe.CardError as exc:
            return Outcome("declined", intent.id if intent else None, f"card declined: {exc.code or 'card_declined'}")
        except self._stripe.StripeError as exc:  # rejected for this charge only: unknown customer, bad request
            return Outcome("declined", intent.id if intent else None, _reason(exc))
        return self._outcome(intent)

    @staticmethod
    def _outcome(intent) -> Outcome:
        if intent.status == "succeeded":
            return Outcome("succeeded", intent.id, "paid")
        if intent.status in ("processing", "requires_action", "requires_capture"):
            return Outcome("pending_confirmation", intent.id, f"payment intent {intent.status}")
        if intent.status == "requires_confirmation":
            return Outcome("requires_confirmation", intent.id, "payment intent created, not confirmed")
        error = getattr(intent, "last_payment_error", None)
        code = (error.get("code") if hasattr(error, "get") else None) or intent.status
        return Outcome("declined", intent.id, f"payment intent {intent.status}: {code}")


def _reason(exc) -> str:
    """Stripe's own reason for refusing a request, in one line."""
    message = getattr(exc, "user_message", None) or str(exc) or type(exc).__name__
    return f"stripe refused: {type(exc).__name__}: {one_line(message)[:200]}"


class AchFileProcessor:
    """ACH debits written as one NACHA file per submission (PPD entries, one batch per
    reseller) under the warehouse's ach/ folder. The client's processor_customer_ref is
    `<routing number>-<account number>`. A debit written to a file is `submitted` (the ledger
    counts it paid that day); it becomes `succeeded` after 5 banking days without a return,
    and a return file can still reverse it later (transforms/ach_returns.py). Every
    presentment has its own deterministic trace number, kept on the charge."""

    name = "ach"

    def __init__(self, ach_dir: Path, now: datetime):
        config = settings.current()
        self.routing, self.company_id, self.company_name = (
            config.ach_origin_routing, config.ach_company_id, config.ach_company_name)
        if not (self.routing and self.company_id and self.company_name):
            raise ProcessorUnavailable("ACH_ORIGIN_ROUTING, ACH_COMPANY_ID and ACH_COMPANY_NAME must be set")
        self.ach_dir, self.now = ach_dir, now
        self.entries: list[tuple[Charge, str, str, str]] = []
        self._file_name: str | None = None

    def trace_number(self, charge: Charge, attempt_no: int) -> str:
        """The ODFI's 8-digit routing prefix and 7 digits derived from the charge and the
        presentment: the same presentment always gets the same trace number."""
        digest = hashlib.sha256(f"{charge.charge_id}#{attempt_no}".encode()).hexdigest()
        return self.routing[:8] + f"{int(digest, 16) % 10**7:07d}"

    def find(self, charge: Charge, attempt_no: int = 1) -> Outcome | None:
        """Whether this presentment is in a file already written (matched by trace number)."""
        trace = self.trace_number(charge, attempt_no)
        for path in sorted(self.ach_dir.glob("*.ach")):
            if any(line.startswith("6") and line[79:94] == trace for line in path.read_text().splitlines()):
                return Outcome("submitted", trace, f"in {path.name}")
        return None

    def charge(self, charge: Charge, attempt_no: int = 1) -> Outcome:
        routing, _, account = (charge.processor_customer_ref or "").partition("-")
        if not (len(routing) == 9 and routing.isdigit() and account.isdigit() and _aba_ok(routing)):
            return Outcome("declined", None, "ACH customer ref must be '<routing>-<account>'")
        trace = self.trace_number(charge, attempt_no)
        self.entries.append((charge, routing, account, trace))
        return Outcome("submitted", trace, f"in {self.file_name}")

    @property
    def file_name(self) -> str:
        """This submission's file: its day and the next free number of that day."""
        if self._file_name is None:
            taken = {p.name for p in self.ach_dir.glob(f"{self.now:%Y%m%d}-*.ach")}
            number = next(n for n in range(1, 10_000) if f"{self.now:%Y%m%d}-{n:03d}.ach" not in taken)
            self._file_name = f"{self.now:%Y%m%d}-{number:03d}.ach"
        return self._file_name

    def flush(self) -> Path | None:
        """Write the NACHA file for the charges collected by this submission."""
        if not self.entries:
            return None
        self.ach_dir.mkdir(parents=True, exist_ok=True)
        target = self.ach_dir / self.file_name
        temp = target.with_suffix(".tmp")
        temp.write_text(nacha_file(self.entries, self.routing, self.company_id, self.company_name, self.now))
        os.replace(temp, target)
        return target


def _aba_ok(routing: str) -> bool:
    weights = (3, 7, 1) * 3
    return sum(int(d) * w for d, w in zip(routing, weights)) % 10 == 0


def nacha_file(entries, origin_routing: str, company_id: str, company_name: str, now: datetime) -> str:
    """A NACHA file: file header, one PPD debit batch per reseller, controls, 9-filled blocks."""
    records = [
        "101" + f" {origin_routing:9.9}" + f"{company_id:>10.10}" + now.strftime("%y%m%d%H%M") + "A094101"
        + f"{'DESTINATION BANK':23.23}" + f"{company_name.upper():23.23}" + f"{'':8}"
    ]
    file_hash = file_debit = file_count = 0
    resellers = sorted({charge.reseller_id for charge, *_ in entries})
    for batch_no, reseller in enumerate(resellers, start=1):
        records.append(
            "5225" + f"{company_name.upper():16.16}" + f"{reseller:20.20}" + f"{company_id:>10.10}" + "PPD"
            + f"{'BILLING':10.10}" + now.strftime("%y%m%d") + now.strftime("%y%m%d") + "   1"
            + origin_routing[:8] + f"{batch_no:07d}"
        )
        batch_hash = batch_debit = count = 0
        # trace numbers ascend within a batch, as NACHA asks
        for charge, routing, account, trace in sorted((e for e in entries if e[0].reseller_id == reseller),
                                                      key=lambda e: e[3]):
            cents = minor_units(charge)
            count += 1
            records.append(
                "627" + routing + f"{account:17.17}" + f"{cents:010d}" + f"{charge.charge_id[-15:]:15.15}"
                + f"{charge.client_id:22.22}" + "  0" + trace
            )
            batch_hash += int(routing[:8])
            batch_debit += cents
        records.append(
            "8225" + f"{count:06d}" + f"{batch_hash % 10**10:010d}" + f"{batch_debit:012d}" + f"{0:012d}"
            + f"{company_id:>10.10}" + " " * 25 + origin_routing[:8] + f"{batch_no:07d}"
        )
        file_hash += batch_hash
        file_debit += batch_debit
        file_count += count
    blocks = -(-(len(records) + 1) // 10)
    records.append(
        "9" + f"{len(resellers):06d}" + f"{blocks:06d}" + f"{file_count:08d}" + f"{file_hash % 10**10:010d}"
        + f"{file_debit:012d}" + f"{0:012d}" + " " * 39
    )
    records += ["9" * 94] * (blocks * 10 - len(records))
    return "\n".join(records) + "\n"
