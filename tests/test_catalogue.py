"""The table catalogue (sql/catalogue.yaml): docs/tables.md is generated from it and current,
every column of every published table and view is described, and the descriptions are the
DuckDB comments of the warehouse's views."""

import duckdb

from transforms import catalogue


def test_the_catalogue_describes_every_column_and_docs_are_current(tmp_path):
    view_db = catalogue.sample_warehouse(tmp_path)
    assert catalogue.missing(view_db) == []
    assert (catalogue.DOCS.read_text() == catalogue.markdown(view_db)), \
        "docs/tables.md is out of date: run python -m transforms.catalogue"
    con = duckdb.connect(str(view_db), read_only=True)
    try:
        assert con.execute("select comment from duckdb_views() where view_name = 'ar_aging'").fetchone()[0] \
            == "one row per client x status day x aging bucket holding money"
        assert con.execute("select comment from duckdb_columns() where table_name = 'invoices' "
                           "and column_name = 'total'").fetchone()[0] == "subtotal - credits, the sum of its lines."
    finally:
        con.close()
