"""Data quality with Great Expectations: checked-in suites against small check frames.

Each suite in expectations/ is `<table>.fail.json` (contract and money invariants: a
failure stops the run before anything is published) or `<table>.warn.json` (volumes and
anomalies: published with the run). A suite is validated against its table's check frame,
built in DuckDB by sql/checks/<table>.sql (extract tables share extract_table.sql): the
rows this run adds, or aggregates and a fixed sample, so tens of millions of rows never
pass through pandas. Results go to the run record and to GX Data Docs (HTML), written per
run under the warehouse's data_docs/<run_id>/.
"""

import json
import logging
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from transforms import assets
from transforms.contract import EXTRACT_TABLES

SUITES_DIR = assets.EXPECTATIONS_DIR
CHECKS_DIR = assets.SQL_DIR / "checks"


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


def check_frames(con: duckdb.DuckDBPyConnection) -> dict:
    """One pandas frame per table with a suite (small: see the module docstring)."""
    frames = {}
    for path in sorted(CHECKS_DIR.glob("*.sql")):
        if path.stem != "extract_table":
            frames[path.stem] = con.execute(path.read_text()).df()
    template = (CHECKS_DIR / "extract_table.sql").read_text()
    for table in EXTRACT_TABLES:
        frames[table] = con.execute(template.format(table=table)).df()
    return frames


def _quiet_gx():
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    import great_expectations as gx

    logging.getLogger("great_expectations").setLevel(logging.ERROR)
    return gx


def validate(con: duckdb.DuckDBPyConnection, gx_dir: Path, docs_target: Path | None) -> ValidationReport:
    """Run every suite against its frame; build the Data Docs into `docs_target`."""
    gx = _quiet_gx()
    from great_expectations.data_context.types.base import ProgressBarsConfig

    frames = check_frames(con)
    context = gx.get_context(mode="file", project_root_dir=str(gx_dir))
    context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
    source = context.data_sources.add_pandas("billing")
    report = ValidationReport()
    for suite_path in sorted(SUITES_DIR.glob("*.json")):
        table, level = suite_path.stem.rsplit(".", 1)
        definition = json.loads(suite_path.read_text())
        suite = context.suites.add(gx.ExpectationSuite(name=definition["name"], expectations=definition["expectations"]))
        batch_definition = source.add_dataframe_asset(suite_path.stem).add_batch_definition_whole_dataframe("run")
        validation = context.validation_definitions.add(
            gx.ValidationDefinition(name=suite_path.stem, data=batch_definition, suite=suite)
        )
        result = validation.run(batch_parameters={"dataframe": frames[table]},
                                result_format={"result_format": "SUMMARY"})
        report.suites += 1
        for outcome in result.results:
            if not outcome.success:
                finding = Finding(
                    suite_path.stem,
                    outcome.expectation_config.type,
                    str(outcome.expectation_config.kwargs.get("column")
                        or outcome.expectation_config.kwargs.get("column_A") or "table"),
                    repr((outcome.result or {}).get("partial_unexpected_list", [])[:3]
                         or (outcome.result or {}).get("observed_value")),
                )
                (report.failures if level == "fail" else report.warnings).append(finding)
    if docs_target is not None:
        context.build_data_docs()
        site = gx_dir / "gx" / "uncommitted" / "data_docs" / "local_site"
        shutil.copytree(site, docs_target, dirs_exist_ok=True)
    return report
