"""ACH return files (billing-rules.md section 9, "ACH returns").

The bank sends failed debits back in a NACHA return file: one entry per return whose
addenda record (type 99) carries the return reason code and the trace number of our
original entry. A file is checked for its structure as NACHA's return conventions define
it (record layout, counts, entry hashes, totals), not against the rules for files we
originate; a file that fails is refused whole, with the line. Each return entry is matched
to the presentment with that trace number and recorded in the attempt log as `returned`
(dated the file's creation date, with the code and its meaning); the charge batch's
publication then posts the `payment_reversal` and the charge is presented again (R01, R09)
or left returned (any other code: new bank details are needed). An entry that matches no
submitted debit, or has no return addenda, is rejected with its line and changes nothing;
a return already recorded (the same file imported again) changes nothing either. Every
import is logged under `<warehouse>/ach_returns/<sha256>.parquet`.
"""

import hashlib
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import achkit

from transforms import models, warehouse
from transforms.sqltext import literal

RETRIED_CODES = ("R01", "R09")  # presented again at most twice; every other code is final
LOG_DIR = "ach_returns"


class ReturnFileRejected(ValueError):
    """A return file whose structure is broken: nothing of it is applied."""


@dataclass
class ReturnImport:
    file: str
    file_date: date | None = None
    applied: list[tuple[int, str, str]] = field(default_factory=list)  # line, trace, code
    duplicates: list[tuple[int, str]] = field(default_factory=list)  # line, trace
    rejected: list[tuple[int, str]] = field(default_factory=list)  # line, reason


def import_file(warehouse_dir: Path, path: Path, today: date, now: datetime) -> ReturnImport:
    """`billing charges returns --file`: import one return file and publish what it changed."""
    from transforms import charging

    if not path.is_file():
        raise ReturnFileRejected(f"return file not found: {path}")
    with warehouse.locked(warehouse_dir):
        warehouse.recover(warehouse_dir)
        con = models.connect()
        try:
            warehouse.load_prior(con, warehouse_dir, "*")
            result = _import(con, warehouse_dir, path, now)
            charging.publish_outcomes(con, warehouse_dir, now)
        finally:
            con.close()
    return result


def import_dropped(warehouse_dir: Path, today: date, now: datetime) -> list[ReturnImport]:
    """The charge batch imports every file dropped into `<warehouse>/ach/returns/` that was
    not imported before (a broken file is logged as refused and skipped, never the batch)."""
    folder = warehouse_dir / "ach" / "returns"
    files = sorted(p for p in folder.glob("*") if p.is_file()) if folder.is_dir() else []
    imported = {p.stem for p in (warehouse_dir / LOG_DIR).glob("*.parquet")}
    fresh = [p for p in files if _sha256(p) not in imported]
    if not fresh:
        return []
    con = models.connect()
    try:
        results = []
        for path in fresh:
            warehouse.load_prior(con, warehouse_dir, "*", tables=("all_charges", "charge_attempts"))
            try:
                results.append(_import(con, warehouse_dir, path, now))
            except ReturnFileRejected as refused:
                _log(con, warehouse_dir, path, now, ReturnImport(str(path), rejected=[(0, str(refused))]))
    finally:
        con.close()
    return results


def _import(con, warehouse_dir: Path, path: Path, now: datetime) -> ReturnImport:
    from transforms.charging import _AttemptLog

    lines = path.read_text().splitlines()
    problems = structure_problems(lines)
    if problems:
        line, reason = problems[0]
        raise ReturnFileRejected(f"{path}: line {line}: {reason}")
    result = ReturnImport(str(path), file_date=_file_date(lines[0]))
    submitted = {
        trace: (charge_id, attempt_no, period)
        for trace, charge_id, attempt_no, period in con.execute(
            "select a.processor_reference, a.charge_id, a.attempt_no, c.period from prior_charge_attempts a "
            "join prior_all_charges c using (charge_id) where a.outcome = 'submitted' and c.processor = 'ach'"
        ).fetchall()
    }
    returned = set(con.execute(
        "select charge_id, attempt_no from prior_charge_attempts where outcome = 'returned'").fetchall())
    log = _AttemptLog(con, warehouse_dir, now)
    at = datetime.combine(result.file_date, datetime.min.time())
    for line_no, _entry, addenda in _entries(lines):
        returns = [a for a in addenda if a[1:3] == "99"]
        if not returns:
            result.rejected.append((line_no, "entry has no return addenda (type 99)"))
            continue
        code, original_trace = returns[0][3:6], returns[0][6:21]
        if code not in achkit.RETURN_CODES:
            result.rejected.append((line_no, f"unknown return reason code {code!r}"))
            continue
        match = submitted.get(original_trace)
        if match is None:
            result.rejected.append((line_no, f"original trace number {original_trace} matches no submitted debit"))
            continue
        charge_id, attempt_no, period = match
        if (charge_id, attempt_no) in returned:
            result.duplicates.append((line_no, original_trace))
            continue
        meaning = achkit.RETURN_CODES[code]
        if code not in RETRIED_CODES:
            meaning += "; new bank details needed"
        log.record({"charge_id": charge_id, "period": period}, attempt_no, "returned", original_trace,
                   f"{code} {meaning}", at=at)
        returned.add((charge_id, attempt_no))
        result.applied.append((line_no, original_trace, code))
    _log(con, warehouse_dir, path, now, result)
    return result


def _entries(lines: list[str]):
    """(line number, entry record, its addenda records) for every entry detail record."""
    current = None
    for number, record in enumerate(lines, start=1):
        if record.startswith("6"):
            if current:
                yield current
            current = (number, record, [])
        elif record.startswith("7") and current:
            current[2].append(record)
        elif current:
            yield current
            current = None
    if current:
        yield current


def _file_date(header: str) -> date:
    return datetime.strptime(header[23:29], "%y%m%d").date()


def structure_problems(lines: list[str]) -> list[tuple[int, str]]:
    """The first structural problems of a return file, as (line, reason): record length and
    order, each batch control's entry/addenda count, entry hash and totals, and the file
    control's batch count, block count, entry/addenda count, hash and totals."""
    records = [(n, r) for n, r in enumerate(lines, start=1) if not (r and set(r) == {"9"})]
    if not records:
        return [(1, "the file is empty")]
    for number, record in records:
        if len(record) != 94:
            return [(number, f"record is {len(record)} characters, NACHA records are 94")]
    if records[0][1][0] != "1":
        return [(records[0][0], "the first record is not a file header (1)")]
    if records[-1][1][0] != "9":
        return [(records[-1][0], "the last record is not a file control (9)")]
    batches, totals = 0, {"count": 0, "hash": 0, "debit": 0, "credit": 0}
    batch = None
    for number, record in records[1:-1]:
        kind = record[0]
        if kind == "5":
            if batch is not None:
                return [(number, "a batch header (5) before the previous batch's control (8)")]
            batch = {"count": 0, "hash": 0, "debit": 0, "credit": 0}
        elif kind in "67":
            if batch is None:
                return [(number, "an entry or addenda record outside a batch")]
            batch["count"] += 1
            if kind == "6":
                if not record[1:3].isdigit() or not record[3:11].isdigit() or not record[29:39].isdigit():
                    return [(number, "entry detail with a non-numeric transaction code, routing or amount")]
                batch["hash"] += int(record[3:11])
                side = "credit" if record[2] in "1234" else "debit"
                batch[side] += int(record[29:39])
        elif kind == "8":
            if batch is None:
                return [(number, "a batch control (8) without its header")]
            expected = (f"{batch['count']:06d}", f"{batch['hash'] % 10**10:010d}", f"{batch['debit']:012d}",
                        f"{batch['credit']:012d}")
            found = (record[4:10], record[10:20], record[20:32], record[32:44])
            for label, want, got in zip(("entry/addenda count", "entry hash", "total debit", "total credit"),
                                        expected, found):
                if want != got:
                    return [(number, f"batch control {label} is {got}, the batch adds up to {want}")]
            for key in totals:
                totals[key] += batch[key]
            batches += 1
            batch = None
        else:
            return [(number, f"unexpected record type {kind!r}")]
    if batch is not None:
        return [(records[-1][0], "the last batch has no control record (8)")]
    control_line, control = records[-1]
    blocks = -(-len(lines) // 10)
    expected = (f"{batches:06d}", f"{blocks:06d}", f"{totals['count']:08d}", f"{totals['hash'] % 10**10:010d}",
                f"{totals['debit']:012d}", f"{totals['credit']:012d}")
    found = (control[1:7], control[7:13], control[13:21], control[21:31], control[31:43], control[43:55])
    for label, want, got in zip(("batch count", "block count", "entry/addenda count", "entry hash",
                                 "total debit", "total credit"), expected, found):
        if want != got:
            return [(control_line, f"file control {label} is {got}, the file adds up to {want}")]
    return []


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _log(con, warehouse_dir: Path, path: Path, now: datetime, result: ReturnImport) -> None:
    """One file per imported return file (by its SHA-256), written once."""
    target = warehouse_dir / LOG_DIR / f"{_sha256(path)}.parquet"
    if target.exists():
        return
    rows = ([(line, trace, code, "applied", None) for line, trace, code in result.applied]
            + [(line, trace, None, "duplicate", "already recorded") for line, trace in result.duplicates]
            + [(line, None, None, "rejected", reason) for line, reason in result.rejected])
    con.execute("create or replace temp table return_log (source_line bigint, trace_number varchar, "
                "return_code varchar, outcome varchar, reason varchar)")
    if rows:
        con.executemany("insert into return_log values (?, ?, ?, ?, ?)", rows)
    target.parent.mkdir(parents=True, exist_ok=True)
    temp = target.with_suffix(".tmp")
    con.execute(
        f"copy (select $file::varchar as source_file, $file_date::date as file_date, $at::timestamp as imported_at, "
        f"* from return_log order by source_line) to {literal(str(temp))} (format parquet)",
        {"file": str(path), "file_date": result.file_date, "at": now.replace(tzinfo=None)})
    temp.replace(target)
