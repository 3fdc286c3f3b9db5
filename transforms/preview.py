"""Preview (billing-rules.md section 10): each client's next cycle invoice as of a day, from
the same SQL models that bill.

A preview build is a billing build with other parameters: its range is the month ahead of
the as-of day D ([D + 1, D + 32), which holds every client's next bill date) and its usage
stops at the end of D (`run_params.usage_until`); `sql/marts/invoice_preview.sql` then picks
each client's next cycle invoice from the lines the models want. It runs in a DuckDB file of
its own that sees the staged extracts of a work database through views, so the run it sits
beside keeps its own tables. Nothing here writes a warehouse: the nightly run publishes the
table it leaves in the work database, and `billing preview` only prints it.
"""

import tempfile
from datetime import date, timedelta
from pathlib import Path

from transforms import graph, models, warehouse


def preview_models() -> tuple[str, ...]:
    """The billing models the preview reads, in build order, then the preview itself."""
    needed = graph.ancestors("invoice_preview")
    return tuple(name for name in graph.stage("billing") if name in needed) + ("invoice_preview",)


def preview_params(run_id: str, as_of: date) -> models.RunParams:
    start = as_of + timedelta(days=1)
    return models.RunParams(run_id, "preview", start, start + timedelta(days=31), as_of, usage_until=start)


def build_preview(work_db: Path, as_of: date) -> None:
    """Compute the preview as of `as_of` from the staged extracts of `work_db` and leave it
    there as the table `invoice_preview`."""
    preview_db = work_db.with_name("preview.duckdb")
    preview_db.unlink(missing_ok=True)
    con = models.connect(preview_db)
    try:
        con.execute("attach $path as staged (read_only)", {"path": str(work_db)})
        # the staged tables, and ingest's views the preview reads (a view there resolves its
        # names there, a `materialize: parquet` one reads its file there; a billing view is
        # built here again, for this range)
        built = set(preview_models()) | {"run_params"} | set(graph.views())
        read = {name for model in preview_models() for name in graph.dependencies()[model]
                if graph.models()[name].materialize != "table" and name in graph.stage("ingest")}
        staged = con.execute("select table_name from duckdb_tables() where database_name = 'staged' union all "
                             "select view_name from duckdb_views() where database_name = 'staged' "
                             "and starts_with(view_name, 'prior_')").fetchall()  # what the warehouse holds
        for (name,) in staged + [(view,) for view in sorted(read)]:
            if name not in built or name in read:
                con.execute(f"create view {name} as select * from staged.main.{name}")
        models.set_run_params(con, preview_params("preview", as_of))
        for name in preview_models():
            models.build_model(con, name)
        con.execute("detach staged")
    finally:
        con.close()
    con = models.connect(work_db)
    try:
        con.execute("attach $path as preview (read_only)", {"path": str(preview_db)})
        con.execute("create or replace table invoice_preview as select * from preview.main.invoice_preview")
        con.execute("detach preview")
    finally:
        con.close()
    preview_db.unlink(missing_ok=True)


def empty_preview(work_db: Path) -> None:
    """An empty `invoice_preview` (a run that publishes no preview), with the model's columns."""
    con = models.connect(work_db)
    try:
        con.execute(f"create or replace table invoice_preview as "
                    f"select * from ({models.read_model('invoice_preview')}) where false")
    finally:
        con.close()


def preview(extracts_dir: Path, as_of: date, client_id: str | None = None) -> tuple[list[str], list[tuple]]:
    """The preview as of `as_of` of every client (or one), computed in a scratch folder from
    the extracts alone: no warehouse is read or written."""
    from transforms.pipeline import ingest

    with tempfile.TemporaryDirectory(prefix="billing-preview-") as scratch:
        work_db = Path(scratch) / "work.duckdb"
        ingest(extracts_dir, work_db)
        con = models.connect(work_db)
        try:
            warehouse.load_prior(con, Path(scratch) / "no-warehouse", as_of.strftime("%Y-%m"))
        finally:
            con.close()
        build_preview(work_db, as_of)
        con = models.connect(work_db)
        try:
            result = con.execute(
                "select * exclude (period) from invoice_preview where $client is null or client_id = $client "
                "order by reseller_id, client_id, line_no", {"client": client_id})
            return [c[0] for c in result.description], result.fetchall()
        finally:
            con.close()
