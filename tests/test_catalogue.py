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
    assert graph.dependencies()["int_payments_validated"] == {"int_payments_deduplicated", "int_client_references"}
    assert graph.dependencies()["ledger"] == {"int_ledger_entries_proposed"}
    assert graph.stages()["int_clients_billable"] == "billing" and graph.stages()["stg_clients"] == "ingest"
    assert graph.stages()["invoice_preview"] == "preview"
    assert "int_rows_deduplicated" not in order  # a template, not a model
