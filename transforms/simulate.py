"""Simulation (billing-rules.md section 10): bill a period twice from the same extracts, as
they are (the baseline) and with a set of proposed pricing rows, and compare.

Both bills are fresh (no warehouse is read) and are made in a scratch folder by the same
pipeline that bills for real (`pipeline.run_range`), so the rules have one implementation.
A proposed row replaces an extract row with the same key (reseller, level, group, client,
item, effective_from): the extract's pricing files that hold such a row are copied without
it into the scratch extracts; every other file is used where it is. The proposed files are
ingested like any pricing file, so a row that breaks the contract gets the same reject.
"""

import tempfile
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from transforms import assets, extracts, models, pipeline, warehouse
from transforms.contract import EXTRACT_TABLES
from transforms.sqltext import literal, scan_path

PRICING_KEY = EXTRACT_TABLES["pricing"].key
STARTED_AT = datetime(2000, 1, 1)  # a simulation's runs are never published: a fixed id keeps them alike
# each report's grain (sql/reports/simulation_compared.sql), in the order printed
REPORTS = {
    "by_reseller_item": ("reseller_id", "currency", "item_code"),
    "by_client": ("reseller_id", "client_id", "currency"),
    "by_line": ("reseller_id", "client_id", "currency", "kind", "invoice_date", "item_code", "line_type"),
}


class SimulationError(ValueError):
    """A proposed pricing path that cannot be used."""


@dataclass
class Comparison:
    period: str
    tables: dict[str, tuple[list[str], list[tuple]]] = field(default_factory=dict)  # report -> columns, rows
    proposed_rejects: tuple[list[str], list[tuple]] = ([], [])


def proposed_files(path: Path) -> list[Path]:
    """The proposed pricing files: one .csv/.parquet file, or every such file of a folder."""
    if path.is_file() and extracts.is_extract_name(path):
        return [path]
    if path.is_dir():
        found = sorted(p for p in path.iterdir() if p.is_file() and extracts.is_extract_name(p))
        if found:
            return found
    raise SimulationError(f"--pricing must be a .csv or .parquet file, or a folder holding some: {path}")


def simulate(extracts_dir: Path, period: str, proposed: Path, scratch: Path | None = None) -> Comparison:
    """Bill `period` from `extracts_dir` with and without the `proposed` pricing rows."""
    pipeline.period_bounds(period)
    if not extracts_dir.is_dir():
        raise extracts.ExtractError(f"extracts folder not found: {extracts_dir}")
    files = proposed_files(proposed)
    with tempfile.TemporaryDirectory(prefix="billing-simulate-", dir=scratch) as folder:
        root = Path(folder)
        as_of = date.fromordinal(pipeline.period_bounds(period)[1].toordinal() - 1)
        params = pipeline.period_params(pipeline.make_run_id(STARTED_AT), period, as_of, "simulate")
        pipeline.run_range(extracts_dir, root / "baseline", params, STARTED_AT, validate=False)
        simulated = _extracts_with(extracts_dir, files, root / "extracts")
        pipeline.run_range(simulated, root / "simulated", params, STARTED_AT, validate=False)
        # ingest names a linked file by its link: each proposed file's rejects are reported
        # under the file as given
        linked = simulated.resolve() / "pricing"
        return _compare(root, period, {str(linked / _linked_name(p)): str(p.resolve()) for p in files})


def _extracts_with(extracts_dir: Path, proposed: list[Path], target: Path) -> Path:
    """Scratch extracts: every table folder linked as it is, except pricing, whose files are
    linked or (when a proposed row replaces one of their rows) copied without those rows,
    beside the proposed files."""
    target.mkdir(parents=True)
    for table in EXTRACT_TABLES:
        if table != "pricing" and (extracts_dir / table).is_dir():
            (target / table).symlink_to((extracts_dir / table).resolve(), target_is_directory=True)
    pricing = target / "pricing"
    pricing.mkdir()
    for path in proposed:
        (pricing / _linked_name(path)).symlink_to(path.resolve())
    con = models.connect()
    try:
        con.execute(f"create table proposed_keys as select distinct {_keys()} from ("
                    + " union all by name ".join(_read_text(p) for p in proposed) + ")")
        originals = sorted((extracts_dir / "pricing").iterdir()) if (extracts_dir / "pricing").is_dir() else []
        for path in originals:
            if not extracts.is_extract_name(path) or not path.is_file():
                continue
            same_key = " and ".join(f"p.{c} is not distinct from {_key(c, 'rows')}" for c in PRICING_KEY)
            kept = (f"select * from ({_read_text(path)}) as rows "
                    f"where not exists (select 1 from proposed_keys as p where {same_key})")
            replaced = con.execute(f"select count(*) from ({_read_text(path)})").fetchone()[0] \
                - con.execute(f"select count(*) from ({kept})").fetchone()[0]
            if replaced == 0:
                (pricing / path.name).symlink_to(path.resolve())
                continue
            fmt = "(format csv, header true)" if path.suffix.lower() == ".csv" else "(format parquet)"
            con.execute(f"copy ({kept}) to {literal(str(pricing / path.name))} {fmt}")
    finally:
        con.close()
    return target


def _linked_name(proposed: Path) -> str:
    return f"proposed-{proposed.name}"


def _read_text(path: Path) -> str:
    """A pricing file's rows as text, as ingest reads them (CSV: every column as text)."""
    if path.suffix.lower() == ".csv":
        return f"select * from read_csv({literal(scan_path(path))}, {extracts.CSV_OPTIONS}, ignore_errors = true)"
    return f"select * from read_parquet({literal(scan_path(path))}, {extracts.PARQUET_OPTIONS})"


def _key(column: str, relation: str = "") -> str:
    return extracts.text_value(f"{relation}.{column}" if relation else column)


def _keys() -> str:
    return ", ".join(f"{_key(c)} as {c}" for c in PRICING_KEY)


def _compare(root: Path, period: str, proposed_sources: dict[str, str]) -> Comparison:
    """`proposed_sources` maps the scratch extracts' link of each proposed file to the file."""
    comparison = Comparison(period)
    con = models.connect()
    try:
        for side in ("baseline", "simulated"):
            for table in ("invoices", "invoice_lines"):
                files = [scan_path(p) for p in sorted((root / side / table).glob("*/*/*.parquet"))]
                schema = literal(scan_path(root / side / "_schemas" / f"{table}.parquet"))
                empty = f"select * from read_parquet({schema}, hive_partitioning = false)"
                source = f"({warehouse.read_partitions('$files', table)})" if files else f"({empty})"
                con.execute(f"create table {side}_{table} as select * from {source}", {"files": files} if files else {})
        con.execute("create table simulation_lines as "
                    + (assets.SQL_DIR / "reports" / "simulation_lines.sql").read_text(), {"period": period})
        result = con.execute((assets.SQL_DIR / "reports" / "simulation_compared.sql").read_text())
        columns = [c[0] for c in result.description]
        rows = result.fetchall()
        for report, keys in REPORTS.items():
            wanted = [*keys, "baseline", "simulated", "difference", "change_pct"]
            picked = [columns.index(c) for c in wanted]
            comparison.tables[report] = (wanted, [tuple(row[i] for i in picked) for row in rows if row[0] == report])
        rejects = [scan_path(p) for p in sorted((root / "simulated" / "rejects").glob("*/*.parquet"))]
        if rejects and proposed_sources:
            result = con.execute(
                "select source_file, source_line, reason, raw from read_parquet($files, hive_partitioning = false) "
                "where source_file in (select unnest($sources::varchar[]))",
                {"files": rejects, "sources": list(proposed_sources)})
            rows = [(proposed_sources[source], *rest) for source, *rest in result.fetchall()]
            comparison.proposed_rejects = ([c[0] for c in result.description], sorted(rows, key=lambda r: r[:2]))
    finally:
        con.close()
    return comparison


def write_outputs(comparison: Comparison, out_dir: Path) -> Path:
    """One CSV per report (and the proposed rows' rejects), and a self-contained HTML page in
    the style of `billing report`: per currency, each reseller x item's difference drawn from
    a zero line, with the tables beside. Returns the page."""
    import csv
    import html

    from transforms.period_report import STYLE, _bar_chart, _table

    out_dir.mkdir(parents=True, exist_ok=True)
    named = dict(comparison.tables, proposed_rejects=comparison.proposed_rejects)
    for report, (columns, rows) in named.items():
        with (out_dir / f"{report}.csv").open("w", newline="") as handle:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(columns)
            writer.writerows(rows)
    columns, rows = comparison.tables["by_reseller_item"]
    by_currency: dict[str, list] = {}
    for row in rows:
        record = dict(zip(columns, row))
        by_currency.setdefault(record["currency"], []).append(
            (f"{record['item_code']} ({record['reseller_id']})", record["difference"], False))
    charts = "".join(
        f'<div class="chart-group" data-currency="{html.escape(currency)}"><h3>{html.escape(currency)}</h3>'
        f'<div class="group">{_bar_chart("difference by item", currency, bars)}</div></div>'
        for currency, bars in sorted(by_currency.items())
    ) or "<p>no invoice lines in the period</p>"
    tables = "".join(
        f"<section><h2>{html.escape(title)}</h2>"
        + _table(comparison.tables[report][0], [[_cell(v) for v in row] for row in comparison.tables[report][1]],
                 numeric_from=len(comparison.tables[report][0]) - 4)
        + "</section>"
        for report, title in (("by_reseller_item", "By reseller and item"), ("by_client", "By client"),
                              ("by_line", "By invoice line"))
    )
    page = (
        f"<!doctype html><html lang=en><head><meta charset=utf-8><title>Pricing simulation {comparison.period}</title>"
        f"<style>{STYLE}</style></head><body><h1>Pricing simulation {html.escape(comparison.period)}</h1>"
        "<p>Simulated less baseline, per currency; the baseline bills the extracts as they are, the "
        "simulation with the proposed pricing rows. Largest differences first.</p>"
        f"<section><h2>Difference by item</h2>{charts}</section>{tables}</body></html>\n"
    )
    target = out_dir / f"simulation-{comparison.period}.html"
    target.write_text(page)
    return target


def _cell(value) -> str:
    return "" if value is None else str(value)
