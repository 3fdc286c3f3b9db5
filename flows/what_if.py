"""Prefect flows `preview` and `simulate` (billing-rules.md section 10), so both can be run
from the UI with parameters (wiring only; the work is in transforms/preview.py and
transforms/simulate.py). Neither reads nor writes a warehouse; each leaves its result as a
table artifact."""

from datetime import date
from pathlib import Path

from prefect import flow, task
from prefect.artifacts import create_table_artifact
from prefect.cache_policies import NO_CACHE

from transforms import preview as previews
from transforms import simulate as simulations


@task(cache_policy=NO_CACHE)
def compute_preview(extracts_dir: Path, as_of: date, client_id: str | None) -> list[dict]:
    columns, rows = previews.preview(extracts_dir, as_of, client_id)
    return [{c: ("" if v is None else str(v)) for c, v in zip(columns, row)} for row in rows]


@flow(name="preview", log_prints=True)
def preview(extracts_dir: Path, as_of: date, client_id: str | None = None) -> list[dict]:
    """Each client's next cycle invoice as of a day, if no more usage arrived."""
    rows = compute_preview(extracts_dir, as_of, client_id)
    create_table_artifact(key="invoice-preview", table=rows or [{"rows": 0}],
                          description=f"Invoice preview as of {as_of}")
    return rows


@task(cache_policy=NO_CACHE)
def compute_simulation(extracts_dir: Path, period: str, pricing: Path, out_dir: Path | None) -> dict:
    comparison = simulations.simulate(extracts_dir, period, pricing)
    if out_dir is not None:
        simulations.write_outputs(comparison, out_dir)
    return {report: [{c: ("" if v is None else str(v)) for c, v in zip(columns, row)} for row in rows]
            for report, (columns, rows) in comparison.tables.items()}


@flow(name="simulate", log_prints=True)
def simulate(extracts_dir: Path, period: str, pricing: Path, out_dir: Path | None = None) -> dict:
    """Bill a period twice (baseline, proposed pricing rows) and compare."""
    tables = compute_simulation(extracts_dir, period, pricing, out_dir)
    for report, rows in tables.items():
        create_table_artifact(key=f"simulation-{report.replace('_', '-')}", table=rows or [{"rows": 0}],
                              description=f"Pricing simulation of {period}: {report.replace('_', ' ')}")
    return tables
