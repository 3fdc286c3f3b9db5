"""Data quality with Great Expectations: checked-in suites against small check frames.

Each suite in expectations/ is `<table>.fail.json` (contract and money invariants: a
failure stops the run before anything is published) or `<table>.warn.json` (volumes and
anomalies: published with the run). A suite is validated against its table's check frame,
built in DuckDB by sql/checks/<table>.sql (extract tables share extract_table.sql): the
rows this run adds, or aggregates and a fixed sample, so tens of millions of rows never
pass through pandas. A frame of the rows a run adds is narrowed in DuckDB to the rows that
break an expectation plus a fixed sample (`_narrowed`), so GX sees thousands of rows, not
millions, and reaches the same verdicts. A table's fail and warn suites run as one GX validation
(see `_expectations`). Results go to the run record and to GX Data Docs
(HTML), written per run under the warehouse's data_docs/<run_id>/; the frame sizes in the
Data Docs are those of the narrowed frames. The Data Docs are written in a background thread
once the verdicts are in (see `validate`), while the run publishes; the suites' own pages are
copied from the warehouse's latest Data Docs when those rendered the same suites.
"""

import hashlib
import json
import logging
import os
import shutil
import sys
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

from transforms import assets, carried, deferred_imports, models, validation_helper
from transforms.contract import EXTRACT_TABLES
from transforms.sqltext import literal

if TYPE_CHECKING:
    import pandas

SUITES_DIR = assets.EXPECTATIONS_DIR
CHECKS_DIR = assets.SQL_DIR / "checks"

log = logging.getLogger(__name__)

# The Data Docs being written, by target folder (see `validate` and `docs_written`).
_docs_writers: dict[Path, threading.Thread] = {}


class ValidationFailed(Exception):
    """A fail suite did not pass: nothing is published."""

    def __init__(self, report: "ValidationReport"):
        self.report = report
        failing = ", ".join(sorted({f.suite for f in report.failures}))
        super().__init__(f"validation failed, nothing published: {len(report.failures)} expectation(s) "
                         f"failed in {failing}")


@dataclass(frozen=True)
class Finding:
    suite: str
    expectation: str
    column: str
    examples: str

    def line(self) -> str:
        return f"{self.suite}: {self.expectation}({self.column}) failed, e.g. {self.examples}"


@dataclass
class ValidationReport:
    suites: int = 0
    failures: list[Finding] = field(default_factory=list)
    warnings: list[Finding] = field(default_factory=list)

    @property
    def summary(self) -> str:
        if self.failures:
            return f"failed: {len(self.failures)} fail expectation(s), {len(self.warnings)} warning(s)"
        return f"passed {self.suites} suites" + (f" with {len(self.warnings)} warning(s)" if self.warnings else "")


# Rows of a check frame kept beside its failing rows when the frame is narrowed (see below).
SAMPLE_ROWS = 1000


def check_frames(con: duckdb.DuckDBPyConnection) -> dict:
    """One pandas frame per table with a suite (small: see the module docstring)."""
    return dict(computed_frames(con))


def computed_frames(con: duckdb.DuckDBPyConnection) -> Iterator[tuple[str, "pandas.DataFrame"]]:
    """`check_frames` one table at a time, each as soon as it is computed."""
    for path in sorted(CHECKS_DIR.glob("*.sql")):
        if path.stem != "extract_table":
            yield path.stem, _narrowed(con, path.stem, path.read_text())
    for table in EXTRACT_TABLES:
        yield table, extract_frame(con, table)


def extract_frame(con: duckdb.DuckDBPyConnection, table: str):
    """An extract table's check frame (sql/checks/extract_table.sql)."""
    judged, kept = _judged_and_kept(con, table)
    key = EXTRACT_TABLES[table].key
    return con.execute((CHECKS_DIR / "extract_table.sql").read_text().format(
        judged=judged, kept=kept, key_columns=_key_columns(table, "used"),
        sampled_key_columns=_key_columns(table, "sampled"),
        kept_key_columns=", ".join(_quoted(c) for c in key),
        key_match=" and ".join(f"used.{_quoted(c)} is not distinct from kept.{_quoted(c)}" for c in key),
    )).df()


def _judged_and_kept(con: duckdb.DuckDBPyConnection, table: str) -> tuple[str, str]:
    """The rows of an extract table this run judged, and the rows whose verdicts it kept from
    runs that passed the suites (see sql/checks/extract_table.sql): for the usage events of a
    run that carried such verdicts, its own verdicts and the kept ones; else every row, and
    none kept."""
    everything = f"int_{table}_validated"
    if table == carried.TABLE and con.execute(
            "select coalesce(bool_or(kept_checked), false) from usage_event_state").fetchone()[0]:
        return "int_usage_events_verdicts", "kept_usage_events"
    return everything, f"(select * from {everything} where false)"


def _key_columns(table: str, relation: str) -> str:
    """An extract table's key columns, qualified by a relation of its check frame's query."""
    return ", ".join(f"{relation}.{_quoted(column)}" for column in EXTRACT_TABLES[table].key)


def _narrowed(con: duckdb.DuckDBPyConnection, table: str, check_sql: str):
    """The check frame as GX needs it: every row that breaks one of the table's expectations
    (all rows sharing a key that should be unique), plus a sample of SAMPLE_ROWS rows, computed
    in DuckDB. Each suite then passes or fails, with the same failing values, exactly as on
    the whole frame, while a million-line run hands pandas a few thousand rows. A suite with
    a table-level expectation (a row count) gets the whole frame.

    The sample is the first rows in the order of their values, column after column (ORDER BY
    ALL), and the frame comes in that order too: the same rows in the same order whatever
    order the table holds them in, found by a top-N rather than by sorting the whole table
    (the invoice lines' frame of a 10M-event month, 1.6M lines: 0.51 s against 1.12 s)."""
    failing = [_failing_rows(e) for e in _expectations(table)]
    if not failing or None in failing:
        return con.execute(check_sql).df()
    con.execute(f"create or replace temp table check_frame as {check_sql}")
    frame = con.execute(
        "select * from check_frame where rowid in "
        f"(select \"rowid\" from (select *, rowid from check_frame order by all limit {SAMPLE_ROWS})) or "
        + " or ".join(f"({f})" for f in failing) + " order by all"
    ).df()
    con.execute("drop table check_frame")
    return frame


_LEVEL_NOTES = {
    "fail": "From {table}.fail.json: a failure stops the run and nothing is published.",
    "warn": "From {table}.warn.json: a failure is a warning, published with the run.",
}


def _expectations(table: str) -> list[dict]:
    """A table's fail and warn suites as one list, validated as one GX suite (GX pays ~50 ms
    per validation on top of its cost per expectation): every expectation keeps its level in
    `meta`, and its notes (shown on the suite's Data Docs page) say what a failure of it does."""
    return [{**e, "meta": {**e.get("meta", {}), "level": level}, "notes": note.format(table=table)}
            for level, note in _LEVEL_NOTES.items() if (SUITES_DIR / f"{table}.{level}.json").exists()
            for e in json.loads((SUITES_DIR / f"{table}.{level}.json").read_text())["expectations"]]


def _failing_rows(expectation: dict) -> str | None:
    """A SQL condition true for (at least) every row of `check_frame` the expectation would
    report; None for an expectation on the table as a whole."""
    kind, kwargs = expectation["type"], expectation["kwargs"]
    column = _quoted(kwargs.get("column", ""))
    if kind == "expect_column_values_to_not_be_null":
        return f"{column} is null"
    if kind == "expect_column_values_to_be_unique":
        return f"{column} in (select {column} from check_frame group by all having count(*) > 1)"
    if kind == "expect_column_values_to_be_in_set":
        # compared as text (true -> 'true'): a value set may mix types, and a row too many is harmless
        values = ", ".join(literal(v if isinstance(v, str) else _sql_value(v)) for v in kwargs["value_set"])
        return f"{column} is not null and cast({column} as varchar) not in ({values})"
    if kind == "expect_column_values_to_be_between":
        # a value on a bound breaks it only when the bound is strict
        bounds = [f"{column} {'<=' if kwargs.get('strict_min') else '<'} {_sql_value(kwargs['min_value'])}"
                  if kwargs.get("min_value") is not None else "",
                  f"{column} {'>=' if kwargs.get('strict_max') else '>'} {_sql_value(kwargs['max_value'])}"
                  if kwargs.get("max_value") is not None else ""]
        return " or ".join(b for b in bounds if b) or "false"
    if kind == "expect_column_pair_values_to_be_equal":
        return f"{_quoted(kwargs['column_A'])} is distinct from {_quoted(kwargs['column_B'])}"
    return None


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _sql_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return literal(str(value))


def start_loading() -> None:
    """Import Great Expectations in a background thread while the run builds. Its import is
    ~1.5-3 s of Python (sqlalchemy comes with it; see IMPORTED_WHEN_USED) that the check
    stage would otherwise wait for; the build's long DuckDB queries release the GIL, so most of it
    overlaps (started during ingest, whose many short queries need the GIL back often, it
    cost ingest as much as it saved). `validate` imports it again: at once when done, else
    it waits for the import under way (Python's import lock). A failed import here says
    nothing: `validate`'s own import raises it where the run reports errors. Nothing to do
    with a helper process (transforms/validation_helper.py), which imports it for this one."""
    if validation_helper.running() is not None:
        return

    def load() -> None:
        try:
            _quiet_gx()
        except Exception:  # noqa: BLE001 - reported by validate's own import
            pass
    threading.Thread(target=load, name="import-great-expectations", daemon=True).start()


# The last billing model over event-scale rows. GX's import holds ~180 MiB for the rest of the
# process: started with the build, it added that to the build's peak, which the models up to
# this one set (10M events: 1,640-1,680 MiB against 1,460 MiB started after it). The models
# after it still run long enough at scale (~8 s at 10M) to hide the import; a tiny extract's
# check stage waits ~0.15 s longer for it.
LOAD_AFTER = "int_cycle_lines_priced"


def load_during_build() -> models.AfterHooks:
    """`start_loading` as an `after` hook of the billing build (see LOAD_AFTER)."""
    return {LOAD_AFTER: start_loading}


# What Great Expectations imports for expectations the suites do not use: ~1 s of its import.
IMPORTED_WHEN_USED = ("scipy.stats", "altair")


def _quiet_gx():
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    if "great_expectations" not in sys.modules:
        deferred_imports.defer(*IMPORTED_WHEN_USED)
    import great_expectations as gx

    # the second names its own level: it announced a temporary docs folder on every run
    for name in ("great_expectations", "great_expectations.data_context.types.base"):
        logging.getLogger(name).setLevel(logging.ERROR)
    return gx


def validate(con: duckdb.DuckDBPyConnection, docs_target: Path | None,
             earlier_docs: Path | None = None) -> ValidationReport:
    """Run every suite against its frame; start writing the Data Docs into `docs_target`.

    The verdicts are returned at once; the Data Docs (rendering ~40 pages through Jinja,
    ~0.5 s whatever the run's size, ~0.25 s with the suites' pages copied and the templates
    compiled once: see DOCS_SITE) are written in a background thread while the run
    publishes, whose DuckDB writes release the GIL. `docs_written` waits for them. The
    suites' pages are the same for every run of the same suites: when an earlier run's Data
    Docs under `earlier_docs` (the warehouse's) hold them, they are copied, not rendered
    again (see `_suite_pages`). With a helper process started (transforms/validation_helper.py,
    for a short-lived command), the suites run and the Data Docs are written there, from the
    frames computed here: each frame is sent as soon as it is computed, and judged there while
    the next is computed here."""
    frames = {}

    def computed():
        for table, frame in computed_frames(con):
            frames[table] = frame  # for judging here, should the helper fail
            yield table, frame

    stream = computed()
    helper = validation_helper.running()
    judged_there = helper.validate(stream, docs_target, earlier_docs) if helper is not None else None
    if judged_there is not None:
        report, docs_written_there = judged_there
        if docs_target is not None:
            _start_docs(docs_target, _docs_logged, docs_written_there, docs_target)
        return report
    for _frame in stream:  # the frames not computed yet (all of them, without a helper)
        pass
    report, context = judge(frames.items(), docs_target)
    if docs_target is not None:
        _start_docs(docs_target, _write_docs, context, docs_target, earlier_docs)
    return report


def _start_docs(target: Path, write, *args) -> None:
    """`write(*args)` in a background thread, which `docs_written` waits for."""
    writer = threading.Thread(target=write, args=args, name="write-data-docs")
    _docs_writers[target] = writer
    writer.start()


@dataclass
class Suites:
    """A GX context with every suite and its validation over a frame, ready to judge frames
    (`judge`): ~0.07 s, which a helper spends before the frames come. One per judging: the
    context keeps the results, for the Data Docs."""
    context: object
    validations: dict  # by table


def prepared_suites() -> Suites:
    gx = _quiet_gx()
    from great_expectations.data_context.types.base import ProgressBarsConfig

    # In memory: a file context rewrites its whole YAML config for every asset added (~3.5 s
    # a run); only the Data Docs are files.
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
    # one asset for every frame (each added asset costs a config save); the frame is the batch
    batch_definition = (context.data_sources.add_pandas("billing").add_dataframe_asset("check_frames")
                        .add_batch_definition_whole_dataframe("run"))
    validations = {}
    for table in _tables():
        suite = context.suites.add(gx.ExpectationSuite(name=table, expectations=_expectations(table)))
        validations[table] = context.validation_definitions.add(
            gx.ValidationDefinition(name=table, data=batch_definition, suite=suite))
    return Suites(context, validations)


def judge(frames: Iterable[tuple[str, "pandas.DataFrame"]], docs_target: Path | None, suites: Suites | None = None):
    """The verdicts of every suite on its frame (`frames`: table and frame, judged in the order
    they come), and the GX context that holds their results (for the Data Docs, when
    `docs_target` names their folder). The findings are in the order of the suites' names,
    whatever the order of the frames. `suites`: from `prepared_suites`, not used before."""
    suites = suites or prepared_suites()
    if docs_target is not None:
        suites.context.add_data_docs_site("billing", DOCS_SITE | {
            "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(docs_target)},
        })
    findings: dict[str, list[tuple[str, Finding]]] = {}
    for table, frame in frames:
        if table not in suites.validations or table in findings:
            continue
        # BASIC has the failing values the findings quote; SUMMARY's counts of them cost ~1 s a run
        result = suites.validations[table].run(batch_parameters={"dataframe": frame},
                                               result_format={"result_format": "BASIC"})
        findings[table] = [_finding(table, outcome) for outcome in result.results if not outcome.success]
    missing = [table for table in suites.validations if table not in findings]
    if missing:
        raise ValueError(f"no check frame for the suites of {', '.join(missing)}")
    report = ValidationReport(suites=len(list(SUITES_DIR.glob("*.json"))))  # every file, one expectation or none
    for table in suites.validations:  # by name (_tables)
        for level, finding in findings[table]:
            (report.failures if level == "fail" else report.warnings).append(finding)
    return report, suites.context


def _finding(table: str, outcome) -> tuple[str, Finding]:
    """A failed expectation's level and finding."""
    config = outcome.expectation_config
    level = config.meta["level"]
    return level, Finding(
        f"{table}.{level}",
        config.type,
        str(config.kwargs.get("column") or config.kwargs.get("column_A") or "table"),
        repr((outcome.result or {}).get("partial_unexpected_list", [])[:3] or (outcome.result or {}).get("observed_value")),
    )


# The Data Docs site: GX's own sections and index, with its page views keeping their compiled
# templates (transforms/data_docs_views.py); no profiling section (the suites profile nothing).
_VIEWS = "transforms.data_docs_views"
DOCS_SITE = {
    "class_name": "SiteBuilder",
    "site_index_builder": {"class_name": "DefaultSiteIndexBuilder",
                           "view": {"module_name": _VIEWS, "class_name": "IndexPageView"}},
    "site_section_builders": {
        "expectations": {"view": {"module_name": _VIEWS, "class_name": "PageView"}},
        "validations": {"view": {"module_name": _VIEWS, "class_name": "PageView"}},
        "profiling": "None",
    },
}


def _write_docs(context, target: Path, earlier_docs: Path | None = None) -> None:
    _docs_logged(lambda: docs_problem(context, target, earlier_docs), target)


def _docs_logged(write, target: Path) -> None:
    """The Data Docs are nice to have, never essential: what went wrong writing them (`write`
    returns it, or None; here or in the helper process) is logged as a warning."""
    problem = write()
    if problem is not None:
        log.warning("Data Docs not written to %s: %s", target, problem)


def docs_problem(context, target: Path, earlier_docs: Path | None = None) -> str | None:
    """Write the Data Docs; what went wrong, or None. When an earlier run's Data Docs hold
    these suites' pages, they are copied and only this run's validation results are rendered
    (the index lists every page in the folder)."""
    try:
        only = None
        suite_pages = _suite_pages(earlier_docs)
        if suite_pages is not None:
            (target / "expectations").mkdir(parents=True, exist_ok=True)
            for page in sorted(suite_pages.glob("*.html")):
                shutil.copyfile(page, target / "expectations" / page.name)
            only = context.validation_results_store.list_keys()
        context.build_data_docs(site_names=["billing"], resource_identifiers=only)
        (target / "expectations" / SUITES_DIGEST).write_text(suites_digest())
    except Exception as error:  # noqa: BLE001 - the run's verdicts and tables do not depend on them
        return str(error)
    return None


# Beside a run's suite pages: the digest of what they render (see `suites_digest`).
SUITES_DIGEST = "suites.sha256"


@cache
def suites_digest() -> str:
    """What the suites' Data Docs pages depend on: every suite file, the notes added to their
    expectations, and the Great Expectations version that renders them."""
    digest = hashlib.sha256(_quiet_gx().__version__.encode())
    digest.update(json.dumps(_LEVEL_NOTES, sort_keys=True).encode())
    for path in sorted(SUITES_DIR.glob("*.json")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def _suite_pages(earlier_docs: Path | None) -> Path | None:
    """The suite pages of the latest run under `earlier_docs` that rendered these very suites
    (its digest file matches), or None. Run folders are named by run id, which sorts by time."""
    if earlier_docs is None or not earlier_docs.is_dir():
        return None
    for run in sorted((path for path in earlier_docs.iterdir() if path.is_dir()), reverse=True):
        marker = run / "expectations" / SUITES_DIGEST
        if marker.is_file():
            pages = marker.parent
            complete = all((pages / f"{table}.html").is_file() for table in _tables())
            return pages if complete and marker.read_text() == suites_digest() else None
    return None


def _tables() -> list[str]:
    """The tables with a suite (a table's fail and warn suites are one GX suite)."""
    return sorted({path.stem.rsplit(".", 1)[0] for path in SUITES_DIR.glob("*.json")})


def docs_written(folder: Path) -> None:
    """Wait for the Data Docs being written anywhere under `folder` (a run's work folder)."""
    for target in list(_docs_writers):  # a snapshot: another run's writer may be added meanwhile
        writer = _docs_writers.pop(target, None) if target.is_relative_to(folder) else None
        if writer is not None:
            writer.join()
