"""Usage events' verdicts carried from one run to the next: each events file's contribution.

After a run publishes, the warehouse keeps in `_run_state/usage_events/`, for every events
file the run read, the file's rows as judged (typed values, key hash, duplicate flag,
reject reason), in one Parquet part per run, with beside it the row as read of each
rejected row (`<part>.rejected.parquet`), and a manifest naming each file (path and
SHA-256), the part that holds its rows, and the context the verdicts were reached in: every
other extract file and the code (`context_key`). A part may also hold rows of files a later
part superseded; a file's rows are read from its own part only. (One part per run, not per
file: a write partitioned by file took 104 s for 100M events at a 2GB memory limit.) When
the run judged only rows of the files it read, its part is the Parquet file its
int_usage_events_verdicts was written to (`materialize: parquet`), linked, not written again.

A later run in the same context reads only the events files that are new or changed. The
rows of the other files keep their verdicts, except the rows that share a key hash with a
row arriving (a new file's row may repeat or contradict an old one) or departing (a removed
file's row may have been the copy kept, or the other half of a conflict): those go back
through deduplication and validation with the new rows (`carried_usage_events`), so every
verdict is the one a run reading every file reaches (rows sharing a key share its hash).
Any other change of context reads every file again. Losing the state only costs that.
The manifest also says whether every part it names comes from a run that passed the GX
suites (`checked`): the events' key check then counts on the kept keys being unique and
checks the run's own keys, among themselves and against the kept ones.

The other extract tables' share of ingest depends on nothing but the context: their files
and the code. So the state also keeps, in a folder (`<run id>.other_extracts/`, named in the
manifest), every table ingest built from them alone that a later step reads
(`other_extract_tables`: each validated table, the reference lists, the prices resolved for
every client, the rows as read of their rejected rows): a DuckDB file of the tables, and the
Parquet file of each `materialize: parquet` one, linked, not written again. A run in the same
context starts its work database as a copy of that file, links those Parquet files beside
it, and neither reads those files nor builds those tables again (a month's clients, pricing,
payments and lead sales cost a night more than its new events file did). A run in another
context reads them and keeps its own folder.
"""

import hashlib
import json
import os
import shutil
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path

import duckdb

from transforms import extracts, graph, models
from transforms.contract import EXTRACT_TABLES
from transforms.extracts import ExtractFile
from transforms.sqltext import literal, scan_path
from transforms.warehouse import STATE_DIR

TABLE = "usage_events"
# work tables of the carrying, which the billing models never read
WORK_TABLES = ("carried_usage_events", "usage_event_hashes_reconsidered", "usage_event_state",
               "usage_event_parts", "kept_usage_events", "int_usage_events_verdicts")
STATE = Path(STATE_DIR) / TABLE
MANIFEST = "manifest.json"
PART = "usage_events_part.parquet"  # the run's part, beside its work database
OTHER_EXTRACTS = "other_extracts"  # a folder beside a run's work database; `<run id>.<it>` in the state
OTHER_TABLES = "tables.duckdb"  # in that folder, beside a Parquet file per `materialize: parquet` table

# stg_usage_events' columns, as a carried row re-enters it (the view adds the row hash: its
# values alone give it, and a part without it is ~8 bytes a row smaller and quicker to write)
STAGED_COLUMNS = {
    "reseller_id": "varchar", "event_id": "varchar", "client_id": "varchar", "item_code": "varchar",
    "quantity": "decimal(18, 6)", "occurred_at": "timestamp", "reject_reason": "varchar",
    "_source_file": "varchar", "_source_line": "bigint", "_key_hash": "ubigint", "_row_reject_reason": "varchar",
}
VERDICT_COLUMNS = STAGED_COLUMNS | {"is_duplicate": "boolean"}


def context_key(files: list[ExtractFile], code_digest: str) -> str:
    """What an events row's verdict depends on besides the events files: every other extract
    file (path and content) and the code."""
    digest = hashlib.sha256(code_digest.encode())
    digest.update(json.dumps([[f.table, str(f.path), f.sha256] for f in files if f.table != TABLE]).encode())
    return digest.hexdigest()


@dataclass
class Carry:
    """What one run reads, keeps and reconsiders. `state` is None for a run that keeps no
    state (it reads every file and writes no part)."""

    state: Path | None
    context: str = ""
    kept: dict[str, Path] = field(default_factory=dict)  # unchanged files -> the part holding their rows
    departed: dict[str, Path] = field(default_factory=dict)  # files gone or changed -> their part
    reads: list[ExtractFile] = field(default_factory=list)  # the events files read in full
    other_extracts: Path | None = None  # the kept tables of the other extract tables, if there are
    kept_checked: bool = False  # every kept row was in a run that passed the GX suites (see `remember`)

    @property
    def carries(self) -> bool:
        return bool(self.kept)

    def reads_file(self, f: ExtractFile) -> bool:
        """Whether ingest reads the file (else its share of ingest is kept)."""
        return f in self.reads if f.table == TABLE else self.other_extracts is None


def plan(warehouse: Path | None, files: list[ExtractFile], code_digest: str) -> Carry:
    """Which events files to read, which to keep, which departed (see the docstring)."""
    events = [f for f in files if f.table == TABLE]
    if warehouse is None:
        return Carry(None, reads=events)
    state, context = warehouse / STATE, context_key(files, code_digest)
    carry = Carry(state, context, reads=events)
    manifest = _manifest(state)
    if manifest.get("context") != context:
        return carry
    other = manifest.get("other_extracts")
    if other is not None and all((state / other / name).is_file() for name in _other_files()):
        carry.other_extracts = state / other
    standing = _standing(state, manifest, {str(f.path): f.sha256 for f in events})
    kept = {path: state / part for path, part in standing.items()}
    departed = {path: state / part for path, (_, part) in manifest["parts"].items() if path not in standing}
    if any(not part.is_file() for part in departed.values()):
        return carry  # a departed file's rows cannot be looked up: read every file
    carry.kept, carry.departed = kept, departed
    carry.kept_checked = manifest.get("checked") is True
    carry.reads = [f for f in events if str(f.path) not in kept]
    return carry


def rejected_name(part: str) -> str:
    """The file beside a part holding the row as read of each of its rejected rows."""
    return part.removesuffix(".parquet") + ".rejected.parquet"


def reading_every_file(carry: Carry, files: list[ExtractFile]) -> Carry:
    """The same run keeping nothing from before: every extract file read."""
    return Carry(carry.state, carry.context, reads=[f for f in files if f.table == TABLE])


@cache
def other_extract_models() -> frozenset[str]:
    """The models of the ingest stage that read no events row, directly or through another
    model, and are not seeds (they read nothing): built from the other extract tables alone."""
    def reads_events(name: str) -> bool:
        return any(r == f"raw_{TABLE}" or r in WORK_TABLES for m in graph.ancestors(name) | {name}
                   for r in graph.references(m))
    return frozenset(name for name in graph.stage("ingest") if name not in graph.seeds() and not reads_events(name))


@cache
def other_extract_tables() -> tuple[str, ...]:
    """What a run in the same context needs of those models: the ones another model reads
    (each validated table, the reference lists; not the typed rows and their deduplicated
    view, which only lead to the validated table), and the rows as read of their rejected rows."""
    own = other_extract_models()
    read_by_others = {d for m in graph.models() if m not in own for d in graph.dependencies()[m]}
    return (*(name for name in graph.order() if name in own and name in read_by_others),
            *(f"raw_{name}_rejected" for name in EXTRACT_TABLES if name != TABLE))


def _parquet_tables() -> list[str]:
    """The kept tables written as Parquet (`materialize: parquet`): kept as those files."""
    return [name for name in other_extract_tables()
            if name in graph.models() and graph.models()[name].materialize == "parquet"]


def _other_files() -> list[str]:
    """The files of a kept folder."""
    return [OTHER_TABLES, *(f"{name}.parquet" for name in _parquet_tables())]


def start_from_kept(carry: Carry, work_db: Path) -> Carry:
    """Start the work database as a copy of the kept tables of the other extract tables, and
    link their Parquet files where the run writes its own, if the run keeps them; a copy that
    fails (a full disk) only costs reading those files."""
    if carry.other_extracts is None:
        return carry
    try:
        shutil.copyfile(carry.other_extracts / OTHER_TABLES, work_db)
        for name in _parquet_tables():
            _link_or_copy(carry.other_extracts / f"{name}.parquet", models.parquet_path(work_db, name))
        return carry
    except OSError:
        work_db.unlink(missing_ok=True)
        return replace(carry, other_extracts=None)


def attach_other_extracts(con: duckdb.DuckDBPyConnection, carry: Carry) -> None:
    """The views over the kept Parquet tables linked beside the work database (`start_from_kept`).
    Creating a view reads its file's schema, so a file that cannot be read fails here, in
    ingest, where it costs one full read."""
    if carry.other_extracts is None:
        return
    for name in _parquet_tables():
        models.view_parquet(con, name)


def write_other_extracts(con: duckdb.DuckDBPyConnection, carry: Carry, work: Path) -> None:
    """A run in a context whose other extract tables it read: keep what it built from them,
    in a folder beside its work database (moved into the state by `remember`)."""
    if carry.state is None or carry.other_extracts is not None:
        return
    target = work / OTHER_EXTRACTS
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir()
    parquet = _parquet_tables()
    con.execute(f"attach {literal(str(target / OTHER_TABLES))} as other_extracts")
    try:
        for name in other_extract_tables():
            if name not in parquet:
                con.execute(f"create table other_extracts.{name} as select * from {name}")
        con.execute("checkpoint other_extracts")  # all in the one file, none in a write-ahead log
    finally:
        con.execute("detach other_extracts")
    for name in parquet:
        _link_or_copy(models.parquet_file(con, name), target / f"{name}.parquet")


def _standing(state: Path, manifest: dict, events: dict[str, str]) -> dict[str, str]:
    """The manifest's files still there with the same SHA-256 (`events`: path -> SHA-256)
    whose part is there too, and the name of that part."""
    return {path: part for path, (sha256, part) in manifest["parts"].items()
            if events.get(path) == sha256 and (state / part).is_file()}


def _manifest(state: Path) -> dict:
    """The manifest, or {} when it is missing or not as `remember` writes it (then every
    events file is read again)."""
    try:
        manifest = json.loads((state / MANIFEST).read_text())
        entries = manifest["parts"].items()
        other = manifest.get("other_extracts")
        if isinstance(manifest["context"], str) and (other is None or isinstance(other, str) and "/" not in other) and all(
                isinstance(path, str) and isinstance(entry, list) and len(entry) == 2
                and all(isinstance(value, str) for value in entry) and "/" not in entry[1]
                for path, entry in entries):
            return manifest
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        pass
    return {}


def _scan(files: dict[str, Path], columns: str = "*", rejected: bool = False) -> str:
    """The rows of the given files, each read from its part, or with `rejected` the rows as
    read of their rejected rows (never with hive partitioning: a `key=value` folder above the
    warehouse is part of its path, not a column)."""
    by_part: dict[Path, list[str]] = {}
    for path, part in sorted(files.items()):
        by_part.setdefault(part.with_name(rejected_name(part.name)) if rejected else part, []).append(path)
    return "(" + " union all ".join(
        f"select {columns} from read_parquet({literal(scan_path(part))}, {extracts.PARQUET_OPTIONS}) "
        f"where _source_file in ({', '.join(literal(p) for p in paths)})"
        for part, paths in sorted(by_part.items())) + ")"


def _typed(columns: dict[str, str], sources: dict[str, str] | None = None) -> str:
    """Each column cast to its type, read from its own name or the one `sources` gives."""
    return ", ".join(f"cast({(sources or {}).get(c, c)} as {t}) as {c}" for c, t in columns.items())


def create_inputs(con: duckdb.DuckDBPyConnection, carry: Carry) -> None:
    """Empty `carried_usage_events` (read by stg_usage_events) and
    `usage_event_hashes_reconsidered`; the run's state context, if it keeps state."""
    con.execute("create or replace table carried_usage_events ("
                + ", ".join(f"{c} {t}" for c, t in STAGED_COLUMNS.items()) + ")")
    con.execute("create or replace table usage_event_hashes_reconsidered (_key_hash ubigint)")
    con.execute("create or replace table usage_event_state (context varchar, kept_checked boolean)")
    if carry.state is not None:
        con.execute("insert into usage_event_state values ($context, $checked)",
                    {"context": carry.context, "checked": carry.carries and carry.kept_checked})


def stage_carried(con: duckdb.DuckDBPyConnection, carry: Carry) -> None:
    """Before the events are judged: the hashes of every row of a file read now or of a
    departed file, and into `carried_usage_events` the kept rows sharing one, as they were
    staged (needs the view stg_usage_events over the files read)."""
    if not carry.carries:
        return
    departed = f" union select _key_hash from {_scan(carry.departed, '_key_hash')}" if carry.departed else ""
    con.execute(f"insert into usage_event_hashes_reconsidered select distinct _key_hash from "
                f"(select _key_hash from stg_usage_events{departed})")
    columns = _typed(STAGED_COLUMNS, {"reject_reason": "_row_reject_reason"})
    con.execute(f"insert into carried_usage_events select {columns} from {_scan(carry.kept)} "
                "semi join usage_event_hashes_reconsidered using (_key_hash)")


def attach_kept(con: duckdb.DuckDBPyConnection, carry: Carry) -> None:
    """After int_usage_events_verdicts: `kept_usage_events`, the kept rows whose verdicts stand."""
    if not carry.carries:
        con.execute("create or replace view kept_usage_events as select "
                    + ", ".join(f"null::{t} as {c}" for c, t in VERDICT_COLUMNS.items()) + " where false")
        return
    con.execute(f"create or replace view kept_usage_events as select {_typed(VERDICT_COLUMNS)} "
                f"from {_scan(carry.kept)} "
                "anti join usage_event_hashes_reconsidered using (_key_hash)")


def rejected_query(con: duckdb.DuckDBPyConnection, carry: Carry, read_now: str, files: list[ExtractFile]) -> str:
    """The query of raw_usage_events_rejected, after the verdicts: the rows as read of the
    rejected rows of the files read now (`read_now`) and of the kept files. A kept part holds
    the row as read of each row rejected when it was written; a kept file with a row rejected
    only now is read again for it."""
    rescanned = _newly_rejected_files(con, carry)
    parts = {path: part for path, part in carry.kept.items() if path not in rescanned}
    kept = (f"select _source_file, _source_line, _raw from {_scan(parts, rejected=True)}"
            if parts else extracts.EMPTY_REJECTED)
    again = [extracts.rejected_rows(con, f, 1_000_000 + n)  # apart from load_raw_tables' scratch tables
             for n, f in enumerate(f for f in files if str(f.path) in rescanned)]
    return "\nunion all\n".join([read_now, kept, *again])


def _newly_rejected_files(con: duckdb.DuckDBPyConnection, carry: Carry) -> set[str]:
    """Kept files with a carried row this run rejects whose row as read no part holds."""
    if not carry.carries:
        return set()
    return {row[0] for row in con.execute(
        "select distinct verdicts._source_file from int_usage_events_verdicts as verdicts "
        "semi join carried_usage_events using (_source_file, _source_line) "
        f"anti join {_scan(carry.kept, '_source_file, _source_line', rejected=True)} "
        "using (_source_file, _source_line) where verdicts.reject_reason is not null").fetchall()}


def write_parts(con: duckdb.DuckDBPyConnection, carry: Carry, work: Path) -> None:
    """The run's part, beside its work database: the rows of every events file read, and of
    each kept file one of whose rows was reconsidered (`usage_event_parts` lists them), and
    the rows as read of their rejected rows. Moved into the state by `remember`."""
    con.execute("create or replace table usage_event_parts (path varchar)")
    if carry.state is None:
        return
    touched = {row[0] for row in con.execute("select distinct _source_file from carried_usage_events").fetchall()}
    written = [str(f.path) for f in carry.reads] + sorted(touched)
    if not written:
        return
    con.executemany("insert into usage_event_parts values (?)", [(p,) for p in written])
    con.execute("set preserve_insertion_order = false")
    try:
        con.execute("copy (select * from raw_usage_events_rejected semi join usage_event_parts "
                    f"on usage_event_parts.path = _source_file) to {literal(str(work / rejected_name(PART)))} "
                    "(format parquet)")
        verdicts = models.parquet_file(con, "int_usage_events_verdicts")
        if touched or verdicts is None:
            # every row judged now is in a written file; the rows a touched file keeps are in its old part
            kept_in_touched = "".join(
                f" union all by name select * from kept_usage_events where _source_file = {literal(path)}"
                for path in sorted(touched))
            con.execute(f"copy (select {', '.join(VERDICT_COLUMNS)} from (select * from int_usage_events_verdicts"
                        f"{kept_in_touched})) to {literal(str(work / PART))} (format parquet)")
        else:
            _link_or_copy(verdicts, work / PART)
    finally:
        con.execute("reset preserve_insertion_order")


def _link_or_copy(source: Path, target: Path) -> None:
    target.unlink(missing_ok=True)
    try:
        os.link(source, target)
    except OSError:  # a file system without hard links
        shutil.copyfile(source, target)


def remember(warehouse: Path, work: Path, run_id: str, files: list[ExtractFile], context: str,
             written: list[str], checked: bool) -> None:
    """After a run's commit: move its part into the state, then name every file's part in the
    manifest (replaced at once), then drop the parts no longer named. `checked`: the run
    passed the GX suites; the manifest says `checked` while every part it names comes from
    such runs (the key uniqueness check of a later run then counts on the kept rows')."""
    state = warehouse / STATE
    state.mkdir(parents=True, exist_ok=True)
    manifest = _manifest(state)
    events = {str(f.path): f.sha256 for f in files if f.table == TABLE}
    parts = {}
    if manifest.get("context") == context:
        parts = {path: [events[path], part] for path, part in _standing(state, manifest, events).items()}
    checked = checked and (not parts or manifest.get("checked") is True)
    other = manifest.get("other_extracts") if manifest.get("context") == context else None
    if (work / OTHER_EXTRACTS).is_dir():
        other = f"{run_id}.{OTHER_EXTRACTS}"
        shutil.rmtree(state / other, ignore_errors=True)
        os.replace(work / OTHER_EXTRACTS, state / other)
    if written:
        name = f"{run_id}.parquet"
        os.replace(work / rejected_name(PART), state / rejected_name(name))
        os.replace(work / PART, state / name)
        parts.update({path: [events[path], name] for path in written})
    temp = state / (MANIFEST + ".tmp")
    kept = {"checked": checked, "context": context, "parts": parts} | ({"other_extracts": other} if other else {})
    temp.write_text(json.dumps(kept, sort_keys=True))
    os.replace(temp, state / MANIFEST)
    named = {name for entry in parts.values() for name in (entry[1], rejected_name(entry[1]))} | {MANIFEST, other}
    for path in state.iterdir():
        if path.name not in named:
            shutil.rmtree(path) if path.is_dir() else path.unlink(missing_ok=True)
