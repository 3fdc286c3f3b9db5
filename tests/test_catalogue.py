"""The table catalogue (sql/catalogue.yaml) and the model lineage: docs/tables.md and
docs/lineage.md are generated and current,
every column of every published table and view is described, and the descriptions are the
DuckDB comments of the warehouse's views."""

import duckdb

from transforms import catalogue


def test_the_catalogue_describes_every_column_and_docs_are_current(tmp_path):
    view_db = catalogue.sample_warehouse(tmp_path)
    assert catalogue.missing(view_db) == []
    assert (catalogue.DOCS.read_text() == catalogue.markdown(view_db)), \
        "docs/tables.md is out of date: run python -m transforms.catalogue"
    assert catalogue.LINEAGE.read_text() == catalogue.lineage(), \
        "docs/lineage.md is out of date: run python -m transforms.catalogue"
    con = duckdb.connect(str(view_db), read_only=True)
    try:
        assert con.execute("select comment from duckdb_views() where view_name = 'ar_aging'").fetchone()[0] \
            == "one row per client x status day x aging bucket holding money"
        assert con.execute("select comment from duckdb_columns() where table_name = 'invoices' "
                           "and column_name = 'total'").fetchone()[0] == "subtotal - credits, the sum of its lines."
    finally:
        con.close()


def test_the_build_order_comes_from_the_models_references():
    """Every model is built after every model it reads; a model is a file; a template
    instance reads what its template reads for its own table."""
    from transforms import graph

    order = graph.order()
    position = {name: n for n, name in enumerate(order)}
    for name, deps in graph.dependencies().items():
        assert all(position[d] < position[name] for d in deps), name
    assert graph.dependencies()["int_payments_validated"] == {
        "int_payments_deduplicated", "int_client_references", "int_clients_dated"}
    assert graph.dependencies()["ledger"] == {"int_ledger_entries_proposed"}
    assert graph.stages()["int_clients_billable"] == "billing" and graph.stages()["stg_clients"] == "ingest"
    assert graph.stages()["invoice_preview"] == "preview"
    assert "int_rows_deduplicated" not in order  # a template, not a model


def test_a_parquet_model_is_written_beside_the_database_and_read_through_a_view(tmp_path, monkeypatch):
    """`materialize: parquet` (the events' verdicts): a file `<database>.<name>.parquet` beside
    the database, a view of that name over it, the same column types as a table; in memory, a table."""
    from transforms import graph, models

    assert graph.models()["int_usage_events_verdicts"].materialize == "parquet"
    sql = ("select 'C1' as client_id, 2.5::decimal(18, 6) as quantity, 42::ubigint as _key_hash, "
           "timestamp '2026-10-01 12:00:00' as occurred_at, null::varchar as reject_reason")
    monkeypatch.setitem(graph.models(), "tiny", graph.Model("tiny", "intermediate", sql, materialize="parquet"))
    work = tmp_path / "wh [x]" / "work.duckdb"  # a folder name DuckDB would read as a glob
    work.parent.mkdir()
    types = "select column_name, data_type from duckdb_columns() where table_name = 'tiny' order by column_index"
    con = models.connect(work)
    try:
        models.build_model(con, "tiny")
        models.build_model(con, "tiny")  # built again in the same work file (a run reading every file after all)
        assert con.execute("select table_type from information_schema.tables where table_name = 'tiny'"
                           ).fetchone()[0] == "VIEW"
        on_file = con.execute(types).fetchall()
        assert con.execute("select * from tiny").fetchall() == con.execute(sql).fetchall()
    finally:
        con.close()
    other = models.connect(work.with_name("preview.duckdb"))  # another database in the folder (the preview)
    try:
        models.build_model(other, "tiny")
        other.execute("copy (select 'C2' as client_id) to " + repr(str(work.with_name("preview.tiny.parquet"))))
        assert other.execute("select client_id from tiny").fetchall() == [("C2",)]
    finally:
        other.close()
    con = models.connect(work)
    try:
        assert con.execute("select client_id from tiny").fetchall() == [("C1",)]  # its own file, untouched
    finally:
        con.close()
    assert sorted(p.name for p in work.parent.iterdir() if p.suffix == ".parquet") == [
        "preview.tiny.parquet", "work.tiny.parquet"]
    in_memory = models.connect()
    try:
        models.build_model(in_memory, "tiny")
        assert in_memory.execute("select table_type from information_schema.tables where table_name = 'tiny'"
                                 ).fetchone()[0] == "BASE TABLE"
        assert in_memory.execute(types).fetchall() == on_file == [
            ("client_id", "VARCHAR"), ("quantity", "DECIMAL(18,6)"), ("_key_hash", "UBIGINT"),
            ("occurred_at", "TIMESTAMP"), ("reject_reason", "VARCHAR")]
    finally:
        in_memory.close()
