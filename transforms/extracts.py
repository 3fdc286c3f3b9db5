"""Read the extracts folder into DuckDB as untyped `raw_<table>` relations.

Every contract column arrives as trimmed text (empty = null) with `_source_file`,
`_source_line` and `_malformed` (the CSV parser's reason when a line could not be split
into the header's columns). Typing and row checks happen in sql/staging. The few event
columns a Parquet file may hold already typed (contract.TYPED_COLUMNS) arrive as they are in
`_typed_<column>` (the text column then holds only a value the contract does not allow), so
10M events are not printed and parsed again. `_raw`, the row as read, is built only for the
rows validation rejects (`raw_<table>_rejected`, a table kept after ingest).

A CSV file is parsed once into a temporary table of the ingest connection (its record order
is its rowid): writing 10M rows into the work database file cost more than parsing them,
and only ingest reads them.

Line numbers: for CSV the physical line on which the record starts (header = line 1; a
quoted value spanning lines moves every later record down by its line breaks, a blank line,
which the parser skips, by one); for Parquet the 1-based row number in the file.
"""

import hashlib
import logging
import re
from dataclasses import dataclass
from pathlib import Path

import duckdb

from transforms.contract import EXTRACT_TABLES, MASKED_COLUMNS, TYPED_COLUMNS, ExtractTable, typed_guard
from transforms.messages import one_line
from transforms.sqltext import literal, literal_list, scan_path

log = logging.getLogger(__name__)

# How every extract CSV is read: a header row, every column as text (typed in sql/staging).
# Never hive partitioning: a folder named like `client_id=X` above a file is part of its
# path, not a column (DuckDB would otherwise put X into every row's client_id).
CSV_OPTIONS = "header = true, all_varchar = true, delim = ',', quote = '\"', escape = '\"', hive_partitioning = false"
PARQUET_OPTIONS = "hive_partitioning = false"


def text_value(column: str) -> str:
    """A cell as ingest sees it: text, trimmed, an empty cell null."""
    return f"nullif(trim(cast({column} as varchar)), '')"


class ExtractError(Exception):
    """An extract file that cannot be read at all (the run stops, nothing is published)."""


@dataclass(frozen=True)
class ExtractFile:
    table: str
    path: Path
    sha256: str
    stamp: tuple[int, ...] = ()  # size, mtime, ctime (ns) and inode when it was hashed


def list_extract_files(extracts_dir: Path, known: dict[str, list] | None = None) -> list[ExtractFile]:
    """All `.csv` / `.parquet` files of the known tables, in a stable order, with their
    SHA-256. `known` maps a path to the stamp and digest an earlier run saw (see
    `file_stamp`): a file whose stamp is the same is not read again, so listing a month of
    unchanged files costs a stat per file, not a pass over every byte."""
    if not extracts_dir.is_dir():
        raise ExtractError(f"extracts folder not found: {extracts_dir}")
    for path in sorted(extracts_dir.iterdir()):
        if path.name not in EXTRACT_TABLES and _holds_extract_files(path):
            log.warning("%s: not a table of the contract (%s); its .csv/.parquet files are not read",
                        path, ", ".join(EXTRACT_TABLES))
    found = []
    for table in EXTRACT_TABLES:
        folder = extracts_dir / table
        if not folder.is_dir():
            continue
        folder = folder.resolve()
        for path in sorted(folder.iterdir()):
            if path.is_dir():
                if _holds_extract_files(path):
                    # not read (the contract's files are those directly in the table's folder), but
                    # never silently: a month of day files moved into a sub-folder would go unbilled
                    log.warning("%s: a folder inside %s is not read; its .csv/.parquet files are not billed",
                                path, table)
            elif is_extract_name(path):
                # A file keeps its own name: a link to another file of the folder is a file
                # of its own (an extract delivered twice), not a second copy of that one.
                if not path.is_file():
                    raise ExtractError(f"{path}: not a readable file (a link to a file that does not exist?)")
                stamp = file_stamp(path)
                earlier = (known or {}).get(str(path))
                sha256 = earlier[-1] if earlier and tuple(earlier[:-1]) == stamp else _sha256(path)
                found.append(ExtractFile(table, path, sha256, stamp))
    return found


def is_extract_name(path: Path) -> bool:
    """Named like an extract file: `.csv` or `.parquet`, in any case."""
    return path.suffix.lower() in (".csv", ".parquet")


def _holds_extract_files(path: Path) -> bool:
    """A folder with a .csv or .parquet file somewhere inside it."""
    return path.is_dir() and any(is_extract_name(inner) for inner in path.rglob("*"))


def file_stamp(path: Path) -> tuple[int, ...]:
    """What changes whenever a file's content does: its size, modification and status-change
    times (ns; the latter cannot be set back by a program) and its inode (a file replaced by
    a rename is another inode)."""
    status = path.stat()
    return status.st_size, status.st_mtime_ns, status.st_ctime_ns, status.st_ino


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def load_raw_tables(con: duckdb.DuckDBPyConnection, files: list[ExtractFile]) -> dict[str, str]:
    """Create the view `raw_<table>` for every contract table (empty when it has no files).
    Returns, per table, the query of `raw_<table>_rejected` (see `create_rejected_tables`).

    The Parquet files of a table that share a header are read by one multi-file scan (a month
    delivered as a file per day is one scan, not a union of thirty: faster, and within the
    memory limit at 100M events); each CSV file is read on its own (its parser rejects and
    physical line numbers are per file)."""
    rejected_queries = {}
    for name, table in EXTRACT_TABLES.items():
        rows, rejected = [], []
        for index, group, header in _scan_groups(con, [(i, f) for i, f in enumerate(files) if f.table == name]):
            group_rows, group_rejected = _group_selects(con, table, group, header, index)
            rows.append(group_rows)
            rejected.append(group_rejected)
        rows.append(_empty_select(table))
        rejected.append(EMPTY_REJECTED)
        con.execute(f"create or replace view raw_{name} as " + "\nunion all by name\n".join(rows))
        rejected_queries[name] = "\nunion all\n".join(rejected)
    return rejected_queries


def rejected_rows(con: duckdb.DuckDBPyConnection, f: ExtractFile, index: int) -> str:
    """The query of the rows as read that validation rejects in one file read for nothing
    else (`index` names its scratch tables, apart from those of `load_raw_tables`)."""
    ((_, group, header),) = _scan_groups(con, [(index, f)])
    return _group_selects(con, EXTRACT_TABLES[f.table], group, header, index)[1]


def _scan_groups(
    con, indexed: list[tuple[int, ExtractFile]],
) -> list[tuple[int, list[ExtractFile], dict[str, str] | None]]:
    """The files of one table as scans: each CSV file alone; the Parquet files grouped by
    their header (column names and types, given with the group), in file order. Each scan
    keeps the index of its first file (names its scratch tables)."""
    groups: dict[object, tuple[int, list[ExtractFile], dict[str, str] | None]] = {}
    for index, f in indexed:
        if f.path.suffix.lower() == ".csv":
            groups[index] = (index, [f], None)
        else:
            header = _parquet_header(con, f)
            groups.setdefault(tuple(header.items()), (index, [], header))[1].append(f)
    return list(groups.values())


def _parquet_header(con, f: ExtractFile) -> dict[str, str]:
    """A Parquet file's column names and their DuckDB types."""
    try:
        return {row[0]: row[1] for row in con.execute(
            f"describe select * from read_parquet($path, {PARQUET_OPTIONS})", {"path": scan_path(f.path)}).fetchall()}
    except duckdb.Error as exc:
        raise ExtractError(f"cannot read {f.path}: {one_line(exc)}") from exc


def create_rejected_tables(con: duckdb.DuckDBPyConnection, rejected_queries: dict[str, str]) -> None:
    """After int_<table>_validated is built: the table `raw_<table>_rejected`, the row as read
    (`_raw`) of each input row it rejects, by file and line, for the rejects mart (built in a
    later stage, when a CSV file's temporary table is gone). Built from the files for those
    rows only: a million-row file's other rows are never turned into JSON."""
    for name, query in rejected_queries.items():
        con.execute(f"create or replace table raw_{name}_rejected as {query}")


EMPTY_REJECTED = "select null::varchar as _source_file, null::bigint as _source_line, null::varchar as _raw where false"


def _empty_select(table: ExtractTable) -> str:
    cols = ", ".join(f"null::varchar as {c}" for c in table.columns)
    return (
        f"select {cols}, {_typed_nulls(table)}null::varchar as _source_file, null::bigint as _source_line, "
        "null::varchar as _malformed where false"
    )


def _rejected_lines(table: ExtractTable, path: str) -> str:
    """The lines of one file its table's validation rejects."""
    return (f"(select _source_line from int_{table.name}_validated "
            f"where reject_reason is not null and _source_file = {path})")


def _typed_nulls(table: ExtractTable) -> str:
    """`_typed_<column>` as null for each column the table may receive typed."""
    return "".join(f"null::{staged} as _typed_{c}, " for (name, c), (staged, *_) in TYPED_COLUMNS.items()
                   if name == table.name)


def _group_selects(
    con, table: ExtractTable, group: list[ExtractFile], header: dict[str, str] | None, index: int,
) -> tuple[str, str]:
    """One scan's rows for `raw_<table>`, and the `_raw` of its rejected rows."""
    try:
        if header is None:
            return _csv_selects(con, table, group[0], index)
        return _parquet_selects(table, group, header)
    except duckdb.Error as exc:
        names = group[0].path if len(group) == 1 else f"{group[0].path} (or {len(group) - 1} more like it)"
        raise ExtractError(f"cannot read {names}: {one_line(exc)}") from exc


def _projection(
    table: ExtractTable, f: ExtractFile, header: dict[str, str], source: str, as_text=text_value,
) -> tuple[str, str]:
    """The contract columns as trimmed text (missing non-key columns are null; a typed one
    in `_typed_<column>`), and `_raw`, the row as read, as JSON, with card-number columns
    masked. `header` maps a file's column names to their types (None: read as text);
    `as_text` makes a column ingest's text (a CSV file's columns are that already)."""
    named = _contract_names(table, header)
    missing_keys = [c for c in table.key if c not in named]
    if missing_keys:
        raise ExtractError(f"{f.path}: missing key column(s) {', '.join(missing_keys)}")
    cols, raw = [], []
    for c in table.columns:
        column = f"{source}.{_identifier(named[c])}" if c in named else None
        value = as_text(column) if column else "null::varchar"
        if (table.name, c) in TYPED_COLUMNS:
            staged = TYPED_COLUMNS[table.name, c][0]
            guard = typed_guard(table.name, c, header[named[c]] or "") if column else None
            if guard:
                passes = guard.format(value=column)
                cols.append(f"case when {passes} then cast({column} as {staged}) end as _typed_{c}")
                cols.append(f"case when not ({passes}) then {value} end as {c}")
            else:
                cols += [f"null::{staged} as _typed_{c}", f"{value} as {c}"]
        else:
            cols.append(f"{value} as {c}")
        if (table.name, c) in MASKED_COLUMNS:
            value = f"case when looks_like_card({value}) then mask_card({value}) else {value} end"
        raw.append(f"{c} := {value}")
    return ", ".join(cols), f"to_json(struct_pack({', '.join(raw)}))::varchar as _raw"


def _contract_names(table: ExtractTable, header: dict[str, str]) -> dict[str, str]:
    """Each contract column the file holds -> its name in the file: the same name, else the
    one name that differs from it only in case or surrounding spaces (`Client_ID`, ` quantity`):
    the column is there, and every row would otherwise be rejected as missing it."""
    loose: dict[str, list[str]] = {}
    for name in header:
        loose.setdefault(name.strip().lower(), []).append(name)
    named = {}
    for c in table.columns:
        if c in header:
            named[c] = c
        elif len(loose.get(c, [])) == 1:
            named[c] = loose[c][0]
    return named


def _csv_selects(con, table: ExtractTable, f: ExtractFile, index: int) -> tuple[str, str]:
    """Materialise one CSV file (rowid = record order), its parser rejects and, when a quoted
    value spans lines, each record's physical line, as temporary tables (see the module's
    docstring)."""
    data, rejects, scans = f"csv_{index}", f"csv_{index}_rejects", f"csv_{index}_scans"
    if f.path.stat().st_size == 0:  # else "missing key column(s)": true, but not the reason
        raise ExtractError(f"{f.path}: the file is empty (a CSV extract starts with its header row)")
    # Each cell is made ingest's text (trimmed, an empty one null) once, as the file is read:
    # the rows are read three times later (deduplication), and trimming them there each time
    # cost 10M events ~9 CPU-s. Trimming removes spaces only: a value's line breaks, which
    # place the records on their physical lines below, stay.
    con.execute(
        f"create or replace temp table {data} as select {text_value('columns(*)')} from read_csv($path, "
        f"{CSV_OPTIONS}, store_rejects = true, rejects_table = '{rejects}', rejects_scan = '{scans}')",
        {"path": scan_path(f.path)},
    )
    header = [row[0] for row in con.execute(f"describe {data}").fetchall()]
    projection, raw = _projection(table, f, dict.fromkeys(header), data, as_text=lambda column: column)
    path = literal(str(f.path))
    # The parser's reject tables are temporary: keep what the rejects output needs. Its `line`
    # counts records (header = 1) and the blank lines it skips, not the line breaks inside
    # quoted values; `csv_line` may start with the blank lines before the record.
    con.execute(
        f"create or replace temp table {data}_malformed as select line::bigint as line, "
        f"'malformed CSV line: ' || lower(min(error_message)) as reason, "
        f"ltrim(any_value(csv_line), chr(13) || chr(10)) as csv_line from {rejects} group by line"
    )
    newlines = " + ".join(_newlines(f"{data}.{_identifier(c)}") for c in header)
    quoted_breaks = con.execute(f"select exists (select 1 from {data} where {newlines} > 0)").fetchone()[0]
    skipped = f"{data}_malformed"
    blank = _blank_lines(f.path, quoted_breaks)
    if blank:
        skipped = f"{data}_skipped"
        con.execute(f"create or replace temp table {skipped} as select line from {data}_malformed "
                    f"union all select unnest($blank::bigint[])", {"blank": blank})
    # A good record's record number = its ordinal + 1 (header) + the malformed records and
    # skipped blank lines before it.
    record_line = f"{data}.rowid + 2"
    if con.execute(f"select exists (select 1 from {skipped})").fetchone()[0]:
        # The j-th skipped line (by number) has line - 1 - j good records before it, so good
        # record k follows every skipped line whose count is <= k: one ASOF join finds how
        # many (a count per good record was quadratic: 100K good + 100K malformed lines, 82 s).
        con.execute(f"""
            create or replace temp table {data}_numbered as
            with ranked as (
                select line - 1 - j as good_before, j as skipped_through,
                from (select line, row_number() over (order by line) as j from {skipped}) as ordered
            ),
            steps as (
                select good_before, max(skipped_through) as skipped_before from ranked group by good_before
            )
            select {data}.rowid as good_rowid, {data}.rowid + 2 + coalesce(steps.skipped_before, 0) as record_line,
            from {data} asof left join steps on {data}.rowid >= steps.good_before""")
        record_line = f"(select record_line from {data}_numbered n where n.good_rowid = {data}.rowid)"
    good_line, bad_line = record_line, "line"
    if quoted_breaks:
        # Quoted values span lines: a record's physical line is its record number plus every
        # line break inside the records before it.
        con.execute(f"""
            create or replace temp table {data}_lines as
            with records as (
                select {data}.rowid as good_rowid, {record_line} as record_line, {newlines} as breaks from {data}
                union all
                select null, line, {_newlines('csv_line')} from {data}_malformed
            )
            select good_rowid, record_line, cast(record_line + coalesce(sum(breaks) over (
                order by record_line rows between unbounded preceding and 1 preceding), 0) as bigint)
                as physical_line,  -- a sum is a HUGEINT, which Parquet would store as a DOUBLE
            from records""")
        good_line = f"(select physical_line from {data}_lines l where l.good_rowid = {data}.rowid)"
        bad_line = (f"(select physical_line from {data}_lines l where l.good_rowid is null "
                    f"and l.record_line = {data}_malformed.line)")
    good = (
        f"select {projection}, {path} as _source_file, {good_line} as _source_line, "
        f"null::varchar as _malformed from {data}"
    )
    nulls = ", ".join(f"null::varchar as {c}" for c in table.columns)
    bad = (
        f"select {nulls}, {_typed_nulls(table)}{path} as _source_file, {bad_line} as _source_line, "
        f"reason as _malformed from {data}_malformed"
    )
    rejected = (
        f"select * from (select {path} as _source_file, {good_line} as _source_line, {raw} from {data}) "
        f"where _source_line in {_rejected_lines(table, path)}\n"
        f"union all\nselect {path}, {bad_line}, csv_line from {data}_malformed"
    )
    return f"{good}\nunion all by name\n{bad}", rejected


def _blank_lines(path: Path, quoted_breaks: bool) -> list[int]:
    """The record numbers (as the parser's `line`: header = 1, every record and every blank
    line counted once) of the blank lines the CSV parser skips without a trace. Most files
    have none, which one search of the file tells. `quoted_breaks`: some value holds a
    line break, so a line break inside quotes (after an odd number of them: RFC 4180 doubles
    a quote inside a value) neither ends a record nor starts a blank line. The file is not
    empty (`_csv_selects` refuses an empty one). The file is read in blocks: a memory map
    of the whole file counted every page read in the process's resident memory (a 6.9 GB
    CSV file peaked at 8.9 GB under a 2 GB DuckDB limit)."""
    with path.open("rb") as fh:
        if not any(_BLANK_AFTER.search(block) for block, _ in _blocks(fh)):  # ~0.5 s per 700 MB
            return []
        fh.seek(0)
        blank, ends, quoted = [], 0, False
        for block, size in _blocks(fh):
            if not quoted_breaks:
                start = 0
                for match in _BLANK_AFTER.finditer(block):
                    if match.start() >= size:  # the next block's: its look-ahead may go on
                        break
                    ends += block.count(b"\n", start, match.end())
                    start = match.end()
                    blank.append(ends + 1)
                ends += block.count(b"\n", start, size)
                continue
            for match in _QUOTE_OR_BREAK.finditer(block, 0, size):
                if match.group() == b'"':
                    quoted = not quoted
                elif not quoted:
                    ends += 1
                    if _BLANK_AFTER.match(block, match.start()):
                        blank.append(ends + 1)
        return blank


def _blocks(fh):
    """The file in blocks of CSV_BLOCK_BYTES, each followed by the file's next two bytes
    (all that _BLANK_AFTER looks ahead, for a blank line starting at a block's last byte):
    (block with those bytes, the block's own length)."""
    while block := fh.read(CSV_BLOCK_BYTES):
        ahead = fh.read(2)
        fh.seek(-len(ahead), 1)
        yield block + ahead, len(block)


CSV_BLOCK_BYTES = 1 << 24  # 16 MiB
_BLANK_AFTER = re.compile(rb"\n(?=\r?\n)")  # a line break followed by an empty line
_QUOTE_OR_BREAK = re.compile(rb'["\n]')


def _newlines(value: str) -> str:
    """How many line breaks a text value holds (0 for null)."""
    return f"coalesce(length({value}) - length(replace({value}, chr(10), '')), 0)"


def _identifier(name: str) -> str:
    """A column name from a file's header as a quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def _parquet_selects(table: ExtractTable, group: list[ExtractFile], header: dict[str, str]) -> tuple[str, str]:
    """Parquet files with one header, read by one scan that names each row's file."""
    # DuckDB's row number cannot be given another name, and names match in any case
    taken = [name for name in header if name.lower() in ("file_row_number", "_extract_file")]
    if taken:
        raise ExtractError(f"{group[0].path}: a column named {taken[0]} cannot be read (ingest names each row's "
                           "file _extract_file and its row number file_row_number); rename or drop it")
    projection, raw = _projection(table, group[0], header, "p")
    paths = literal_list(scan_path(f.path) for f in group)
    # the path under a name of its own: an extract may carry a column called `filename`
    source = f"read_parquet({paths}, filename = '_extract_file', file_row_number = true, {PARQUET_OPTIONS}) as p"
    files = "(" + ", ".join(literal(str(f.path)) for f in group) + ")"
    return (
        f"select {projection}, p._extract_file as _source_file, p.file_row_number + 1 as _source_line, "
        f"null::varchar as _malformed from {source}",
        f"select p._extract_file as _source_file, p.file_row_number + 1 as _source_line, {raw} from {source} "
        f"where (p._extract_file, p.file_row_number + 1) in (select (_source_file, _source_line) "
        f"from int_{table.name}_validated where reject_reason is not null and _source_file in {files})",
    )
