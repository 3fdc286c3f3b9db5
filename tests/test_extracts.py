"""Reading extracts: every bad row lands in rejects with file, line and a reason."""

from datetime import date, datetime
from pathlib import Path

import duckdb
import pytest
from helpers import R1, D, bill, client, lines, price, query, usage, write_extracts

from transforms import extracts, models
from transforms.contract import EXTRACT_TABLES
from transforms.extracts import ExtractError, list_extract_files, load_raw_tables
from transforms.pipeline import run_period


def _base(folder: Path, **tables) -> Path:
    return write_extracts(folder, {
        "resellers": [R1], "clients": [client("C1")],
        "pricing": [price("sms", metered=True, unit_fee="0.10")], **tables,
    })


def _parquet_events(path: Path, events: list[tuple[str, str, str]]) -> None:
    """A Parquet usage_events file of R1/C1/sms events: (event_id, occurred_at, quantity as a
    SQL expression, which gives the column its type)."""
    rows = ", ".join(f"('R1', '{event_id}', 'C1', 'sms', timestamp '{at}', {quantity})"
                     for event_id, at, quantity in events)
    duckdb.connect().execute(
        f"copy (select * from (values {rows}) t(reseller_id, event_id, client_id, item_code, occurred_at, quantity)) "
        f"to '{path}' (format parquet)")


def _usage_event_counts(warehouse: Path) -> dict:
    """The run's reconciliation of the usage_events extract (its entry in runs.row_counts)."""
    ((counts,),) = query(warehouse, "select list_filter(row_counts, lambda c: c.table_name = 'usage_events') from runs")
    return counts[0] | {}


def test_a_malformed_csv_line_is_rejected_and_later_lines_keep_their_numbers(tmp_path):
    ex = _base(tmp_path / "ex")
    (ex / "usage_events").mkdir()
    (ex / "usage_events" / "hand.csv").write_text(
        "reseller_id,event_id,client_id,item_code,occurred_at,quantity\n"
        "R1,a,C1,sms,2026-09-02T00:00:00Z,5\n"
        "R1,b,C1,sms\n"
        "R1,c,C1,sms,2026-09-03T00:00:00Z,6\n"
        "R1,d,C1,sms,2026-09-03T00:00:00Z,lots\n"
    )
    wh = tmp_path / "wh"
    bill(ex, wh, "2026-10")
    rejects = query(wh, "select source_line, reason, raw from rejects order by source_line")
    assert [(line, reason) for line, reason, _ in rejects] == [
        (3, "malformed CSV line: expected number of columns: 6 found: 4"),
        (5, "quantity is not a number with at most 6 decimals"),
    ]
    assert rejects[0][2] == "R1,b,C1,sms"
    assert lines(wh, "C1", "2026-10-01") == [("sms", "usage", D("11"), D("0.10"), D("1.10"))]


def test_runs_of_malformed_csv_lines_keep_every_later_line_number(tmp_path):
    # malformed lines first, two in a row, and between good ones: each good line keeps its own number
    ex = _base(tmp_path / "ex")
    (ex / "usage_events").mkdir()
    (ex / "usage_events" / "hand.csv").write_text(
        "reseller_id,event_id,client_id,item_code,occurred_at,quantity\n"  # line 1
        "R1,m1\n"                                                            # 2: malformed
        "R1,a,C1,sms,2026-09-02T00:00:00Z,1\n"                               # 3
        "R1,m2\n"                                                            # 4: malformed
        "R1,m3\n"                                                            # 5: malformed
        "R1,b,C1,sms,2026-09-02T00:00:00Z,x\n"                               # 6: bad quantity
        "R1,c,C1,sms,2026-09-03T00:00:00Z,2\n"                               # 7
        "R1,m4\n"                                                            # 8: malformed
        "R1,d,C1,sms,2026-09-03T00:00:00Z,y\n"                               # 9: bad quantity
    )
    wh = tmp_path / "wh"
    bill(ex, wh, "2026-10")
    malformed = "malformed CSV line: expected number of columns: 6 found: 2"
    bad_quantity = "quantity is not a number with at most 6 decimals"
    assert query(wh, "select source_line, reason from rejects order by source_line") == [
        (2, malformed), (4, malformed), (5, malformed), (6, bad_quantity), (8, malformed), (9, bad_quantity),
    ]
    assert lines(wh, "C1", "2026-10-01") == [("sms", "usage", D("3"), D("0.10"), D("0.30"))]


def test_blank_lines_are_skipped_and_every_later_line_keeps_its_physical_number(tmp_path):
    # the CSV parser skips a blank line without a trace: the lines after it must not move up,
    # in a file with CRLF line ends, or where a quoted value spans lines (blank inside it too)
    ex = _base(tmp_path / "ex")
    (ex / "usage_events").mkdir()
    (ex / "usage_events" / "blank.csv").write_bytes(
        b"reseller_id,event_id,client_id,item_code,occurred_at,quantity\n"  # line 1
        b"\n"                                                               # 2: blank
        b"R1,a,C1,sms,2026-09-02T00:00:00Z,1\n"                             # 3
        b"\n\n"                                                             # 4, 5: blank
        b"R1,b,C1,sms,2026-09-02T00:00:00Z,x\n"                             # 6: bad quantity
        b"R1,m1\n"                                                          # 7: malformed
        b"\n"                                                               # 8: blank
        b"R1,c,C1,sms,2026-09-03T00:00:00Z,y\n"                             # 9: bad quantity
        b"\n"                                                               # 10: blank, at the end
    )
    (ex / "usage_events" / "crlf.csv").write_bytes(
        b"reseller_id,event_id,client_id,item_code,occurred_at,quantity\r\n"  # line 1
        b"R1,d,C1,sms,2026-09-04T00:00:00Z,2\r\n"                             # 2
        b"\r\n"                                                               # 3: blank
        b"R1,e,C1,sms,2026-09-04T00:00:00Z,z\r\n"                             # 4: bad quantity
    )
    (ex / "groups").mkdir()
    (ex / "groups" / "groups.csv").write_bytes(
        b"reseller_id,group_id,name\n"  # line 1
        b'R1,G1,"one\n\nthree"\n'      # lines 2-4 (a blank line inside quotes is part of the value)
        b"\n"                           # 5: blank
        b"R1,,no id\n"                  # 6: missing group_id
        b"\n"                           # 7: blank
        b"R1,G4\n"                      # 8: malformed
        b"R9,G5,unknown reseller\n"     # 9
    )
    wh = tmp_path / "wh"
    bill(ex, wh, "2026-10")
    bad_quantity = "quantity is not a number with at most 6 decimals"
    rejects = query(wh, "select table_name, source_file, source_line, reason, raw from rejects order by all")
    assert [(table, Path(file).name, line, reason) for table, file, line, reason, _ in rejects] == [
        ("groups", "groups.csv", 6, "missing group_id"),
        ("groups", "groups.csv", 8, "malformed CSV line: expected number of columns: 3 found: 2"),
        ("groups", "groups.csv", 9, "unknown reseller R9"),
        ("usage_events", "blank.csv", 6, bad_quantity),
        ("usage_events", "blank.csv", 7, "malformed CSV line: expected number of columns: 6 found: 2"),
        ("usage_events", "blank.csv", 9, bad_quantity),
        ("usage_events", "crlf.csv", 4, bad_quantity),
    ]
    assert rejects[4][4] == "R1,m1"  # the line as read, without the blank lines before it
    assert lines(wh, "C1", "2026-10-01") == [("sms", "usage", D("3"), D("0.10"), D("0.30"))]
    # a blank line is no row: rows read = used + rejected
    assert _usage_event_counts(wh) == {"table_name": "usage_events", "rows_read": 6, "rows_used": 2, "rows_rejected": 4,
                                      "duplicates_collapsed": 0, "is_reconciled": True}


@pytest.mark.parametrize("block_bytes", [1, 2, 3, 5, 8, 1 << 24])
def test_blank_lines_are_found_wherever_the_file_s_blocks_end(tmp_path, monkeypatch, block_bytes):
    # The file is searched in blocks: a blank line ("\n\n" or "\n\r\n") straddling two
    # blocks is found once. Record numbers as the CSV parser counts them (header = 1).
    monkeypatch.setattr(extracts, "CSV_BLOCK_BYTES", block_bytes)
    plain = tmp_path / "plain.csv"
    plain.write_bytes(b"h\n\nr3\n\n\nr6\r\n\r\nr8\n\n")  # blank: lines 2, 4, 5, 7, 9
    assert extracts._blank_lines(plain, quoted_breaks=False) == [2, 4, 5, 7, 9]
    quoted = tmp_path / "quoted.csv"
    # record 2 spans physical lines 2-4 (its blank line is inside quotes); blank lines at
    # physical 5 and 7 are records 3 and 5
    quoted.write_bytes(b'h,v\nR1,"one\n\nthree"\n\nR1,x\n\r\nR1,y\n')
    assert extracts._blank_lines(quoted, quoted_breaks=True) == [3, 5]
    none = tmp_path / "none.csv"
    none.write_bytes(b"h\r\nr2\r\nr3\n")
    assert extracts._blank_lines(none, quoted_breaks=False) == []


def test_column_names_differing_only_in_case_or_spaces_are_the_contract_columns(tmp_path):
    ex = _base(tmp_path / "ex")
    (ex / "usage_events").mkdir()
    (ex / "usage_events" / "upper.csv").write_text(
        "Reseller_ID,event_id,CLIENT_ID,item_code, occurred_at ,Quantity\n"
        "R1,a,C1,sms,2026-09-02T00:00:00Z,5\n"
        "R1,b,C1,sms,2026-09-03T00:00:00Z,lots\n"
    )
    duckdb.connect().execute(
        "copy (select 'R1' as RESELLER_ID, 'c' as Event_Id, 'C1' as client_id, 'sms' as Item_Code, "
        "timestamp '2026-09-04 00:00:00' as occurred_at, 2 as QUANTITY) "
        f"to '{ex / 'usage_events' / 'upper.parquet'}' (format parquet)")
    wh = tmp_path / "wh"
    bill(ex, wh, "2026-10")
    assert query(wh, "select source_line, reason from rejects") == [
        (3, "quantity is not a number with at most 6 decimals")]
    assert lines(wh, "C1", "2026-10-01") == [("sms", "usage", D("7"), D("0.10"), D("0.70"))]


def test_parquet_and_csv_files_of_a_table_are_read_together(tmp_path):
    ex = _base(tmp_path / "ex", usage_events=[usage("a", "C1", "sms", "2026-09-02T00:00:00Z", 5)])
    _parquet_events(ex / "usage_events" / "more.parquet", [("p1", "2026-09-04 10:00:00", "7"),
                                                           ("p2", "2026-09-05 10:00:00", "-1")])
    wh = tmp_path / "wh"
    bill(ex, wh, "2026-10")
    assert lines(wh, "C1", "2026-10-01") == [("sms", "usage", D("12"), D("0.10"), D("1.20"))]
    assert query(wh, "select source_line, reason from rejects where source_file like '%more.parquet'") == [
        (2, "negative quantity")
    ]


def test_a_double_quantity_counts_as_the_decimal_it_stands_for(tmp_path):
    # DuckDB prints the double 0.00005 as 5e-05, which the text check would refuse; read
    # typed it is 0.00005. A double with more than 6 decimals and -0.0 get a CSV cell's reasons.
    ex = _base(tmp_path / "ex")
    (ex / "usage_events").mkdir()
    _parquet_events(ex / "usage_events" / "doubles.parquet", [
        ("a", "2026-09-04 10:00:00", "0.00005::double"), ("b", "2026-09-04 11:00:00", "1.5::double"),
        ("c", "2026-09-04 12:00:00", "2::double"), ("d", "2026-09-04 13:00:00", "0.1::double + 0.2::double"),
        ("e", "2026-09-04 14:00:00", "-0.0::double"),
    ])
    wh = tmp_path / "wh"
    bill(ex, wh, "2026-10")
    # 0.00005 + 1.5 + 2 = 3.50005 units x 0.10 = 0.350005 -> 0.35
    assert lines(wh, "C1", "2026-10-01") == [("sms", "usage", D("3.50005"), D("0.10"), D("0.35"))]
    assert query(wh, "select source_line, reason from rejects order by source_line") == [
        (4, "quantity is not a number with at most 6 decimals"),
        (5, "negative quantity"),
    ]


def test_parquet_files_of_one_header_are_read_as_one_scan_and_keep_their_own_lines(tmp_path):
    # Three day files with the same header (one scan; the folder's name holds glob and quote
    # characters), one with text columns (a scan of its own): every reject names its own file
    # and row, and a key repeated across files is a duplicate across scans too.
    ex = _base(tmp_path / "ex [it's] *")
    (ex / "usage_events").mkdir()
    con = duckdb.connect()
    days = {
        "day-02.parquet": "('d2a', 2, 5), ('d2b', 2, -1)",
        "day-03.parquet": "('d3a', 3, 6), ('d3b', 3, -2), ('d3c', 3, 1)",
        "day-04.parquet": "('d3c', 3, 1)",  # the same event as day-03's third row: counted once
    }
    for name, rows in days.items():
        con.execute(
            "copy (select 'R1' as reseller_id, event_id, 'C1' as client_id, 'sms' as item_code, "
            "make_timestamp(2026, 9, day, 10, 0, 0) as occurred_at, quantity::decimal(12, 3) as quantity, "
            "'export.csv' as filename "  # a column the contract does not name: ignored, whatever its name
            f"from (values {rows}) t(event_id, day, quantity)) to $path (format parquet)",
            {"path": str(ex / "usage_events" / name)},
        )
    con.execute(
        "copy (select 'R1' as reseller_id, 't1' as event_id, 'C1' as client_id, 'sms' as item_code, "
        "'2026-09-05T10:00:00Z' as occurred_at, 'lots' as quantity union all select 'R1', 't2', 'C1', 'sms', "
        "'2026-09-05T10:00:00Z', '4') to $path (format parquet)",
        {"path": str(ex / "usage_events" / "text.parquet")},
    )
    raw = duckdb.connect()
    load_raw_tables(raw, list_extract_files(ex))
    view = raw.execute("select sql from duckdb_views() where view_name = 'raw_usage_events'").fetchone()[0]
    assert view.count("read_parquet(") == 2  # the three day files, and the text one
    wh = tmp_path / "wh"
    bill(ex, wh, "2026-10")
    assert lines(wh, "C1", "2026-10-01") == [("sms", "usage", D("16"), D("0.10"), D("1.60"))]  # 5 + 6 + 1 + 4
    rejects = query(wh, "select source_file, source_line, reason, raw from rejects order by all")
    folder = ex.resolve() / "usage_events"
    assert [(Path(file), line, reason) for file, line, reason, _ in rejects] == [
        (folder / "day-02.parquet", 2, "negative quantity"),
        (folder / "day-03.parquet", 2, "negative quantity"),
        (folder / "text.parquet", 1, "quantity is not a number with at most 6 decimals"),
    ]
    assert '"event_id":"d3b"' in rejects[1][3] and '"quantity":"lots"' in rejects[2][3]
    assert query(wh, "select r.rows_read, r.rows_used, r.rows_rejected, r.duplicates_collapsed "
                     "from (select unnest(row_counts) as r from runs) where r.table_name = 'usage_events'") == [
        (8, 4, 3, 1)
    ]


@pytest.mark.parametrize("column", ["file_row_number", "File_Row_Number", "_extract_file"])
def test_a_parquet_extract_with_a_column_named_file_row_number_is_refused_by_name(tmp_path, column):
    ex = _base(tmp_path / "ex")
    (ex / "usage_events").mkdir()
    duckdb.connect().execute(
        "copy (select 'R1' as reseller_id, 'e1' as event_id, 'C1' as client_id, 'sms' as item_code, "
        f"'2026-09-02T00:00:00Z' as occurred_at, '1' as quantity, 7 as {column}) to $path (format parquet)",
        {"path": str(ex / "usage_events" / "numbered.parquet")},
    )
    with pytest.raises(ExtractError, match=rf"numbered\.parquet: a column named {column} cannot be read"):
        bill(ex, tmp_path / "wh", "2026-10")
    assert not (tmp_path / "wh" / "invoices").exists()


EVENT_ROWS = (  # event_id, occurred_at, quantity: two good rows, then one per row check
    "('e1', '2026-09-04 10:00:00', '7.25'), ('e2', '2026-09-30 23:59:59.999999', '0.000001'), "
    "('e3', '2026-09-05 10:00:00', '-1'), ('e4', '2026-09-05 10:00:00', null), "
    "('e5', null, '2'), ('e6', '2026-09-05 10:00:00', '0.0000001'), ('e7', '2026-09-05 10:00:00', '1000000000000')"
)


@pytest.mark.parametrize("types", [
    ("timestamptz", "decimal(20, 7)"),  # read as they are; 7 decimals and 13 digits get the CSV reason
    ("timestamp", "decimal(38, 8)"),
    ("timestamptz", "hugeint"),
    ("varchar", "varchar"),  # text in Parquet
])
def test_typed_parquet_events_bill_and_reject_exactly_as_their_csv_text(tmp_path, types):
    """A Parquet file whose event columns are typed is read without printing and parsing them
    again: the same lines, rejects, reasons and raw rows as the same events as CSV text."""
    results = []
    for form in ("csv", "parquet"):
        ex = _base(tmp_path / form)
        (ex / "usage_events").mkdir()
        con = duckdb.connect()
        con.execute("set TimeZone = 'UTC'")
        integers = "where quantity is null or try_cast(quantity as hugeint) = try_cast(quantity as decimal(38, 10))" * (
            types[1] == "hugeint")
        rows = (f"select 'R1' as reseller_id, event_id, 'C1' as client_id, 'sms' as item_code, "
                f"cast(occurred_at as {types[0] if form == 'parquet' else 'varchar'}) as occurred_at, "
                f"{f'cast(quantity as {types[1]})' if form == 'parquet' else 'quantity'} as quantity "
                f"from (values {EVENT_ROWS}) t(event_id, occurred_at, quantity) {integers}")
        con.execute(f"copy ({rows}) to '{ex / 'usage_events' / ('events.' + form)}' (format {form})")
        con.close()
        wh = tmp_path / f"wh-{form}"
        bill(ex, wh, "2026-10")
        results.append((lines(wh, "C1", "2026-10-01"),
                        query(wh, "select source_line, reason, raw from rejects order by source_line")))
    csv_result, parquet_result = results
    assert parquet_result[0] == csv_result[0]
    # a Parquet row has no header line
    assert [(line, reason) for line, reason, _ in parquet_result[1]] == [
        (line - 1, reason) for line, reason, _ in csv_result[1]]
    if types[1] == "hugeint":  # only the whole quantities were written
        assert [(line, reason) for line, reason, _ in csv_result[1]] == [
            (2, "negative quantity"), (3, "missing quantity"), (4, "missing occurred_at"),
            (5, "quantity has more than 12 digits before the decimal point")]
        return
    assert csv_result[0] == [("sms", "usage", D("7.250001"), D("0.10"), D("0.73"))]
    assert [(line, reason) for line, reason, _ in csv_result[1]] == [
        (4, "negative quantity"), (5, "missing quantity"), (6, "missing occurred_at"),
        (7, "quantity is not a number with at most 6 decimals"),
        (8, "quantity has more than 12 digits before the decimal point")]
    if types[1] == "decimal(20, 7)":
        assert [raw for *_, raw in parquet_result[1]][0] == (
            '{"reseller_id":"R1","event_id":"e3","client_id":"C1","item_code":"sms",'
            '"occurred_at":"2026-09-05 10:00:00+00","quantity":"-1.0000000"}')


def test_a_card_number_rejects_the_client_and_never_reaches_the_warehouse(tmp_path):
    ex = _base(tmp_path / "ex", clients=[
        client("C1"),
        client("C2", processor="stripe", processor_customer_ref="4242 4242 4242 4242"),
    ])
    wh = tmp_path / "wh"
    bill(ex, wh, "2026-10")
    ((reason, raw),) = query(wh, "select reason, raw from rejects where table_name = 'clients'")
    assert reason.startswith("processor_customer_ref looks like a card number (************4242)")
    assert "************4242" in raw and "4242 4242" not in raw
    for path in wh.rglob("*"):
        if path.is_file():
            assert b"4242 4242 4242 4242" not in path.read_bytes() and b"4242424242424242" not in path.read_bytes()


def test_row_level_contract_checks_give_reasons_a_finance_reader_understands(tmp_path):
    ex = _base(
        tmp_path / "ex",
        clients=[client("C1"), client("C2", start="2026-02-30"), client("C3", bill_day=31), client(""),
                 client("C4", start="2026-03-01", cancel_date="2026-02-28"), client("C5", cancel_date="2026-01-01")],
        pricing=[price("sms", metered=True, unit_fee="12,50"), price("sms", level="group", unit_fee="1"),
                 price("sms", cycle_months=5, effective_from="2026-02-01"), price("fax", unit_fee="1")],
        usage_events=[usage("", "C1", "sms", "2026-09-02T00:00:00Z", 1),
                      usage("u2", "C1", "sms", "2026-13-02T00:00:00Z", 1),
                      usage("u3", "C2", "sms", "2026-09-02T00:00:00Z", 1),
                      usage("u4", "C1", "sms", "2025-12-31T23:00:00Z", 1),
                      usage("u5", "C1", "account", "2026-09-02T00:00:00Z", 1)],
    )
    wh = tmp_path / "wh"
    bill(ex, wh, "2026-10")
    assert query(wh, "select table_name, source_line, reason from rejects order by table_name, source_line") == [
        ("clients", 3, "start_date is not a date (YYYY-MM-DD)"),
        ("clients", 4, "bill_day must be a whole number from 1 to 28"),
        ("clients", 5, "missing client_id"),
        ("clients", 6, "cancel_date 2026-02-28 is before start_date 2026-03-01"),
        ("pricing", 2, "unit_fee is not an amount of 0 or more"),
        ("pricing", 3, "a group-level row needs group_id"),
        ("pricing", 4, "cycle_months must be 1, 2, 3, 4, 6 or 12"),
        ("pricing", 5, "unknown item_code fax"),
        ("usage_events", 2, "missing event_id"),
        ("usage_events", 3, "occurred_at is not an ISO 8601 timestamp"),
        ("usage_events", 4, "client C2 was rejected (see its clients row)"),
        ("usage_events", 5, "usage before the client's start date"),
        ("usage_events", 6, "item account is a fee-only item and takes no usage"),
    ]


def test_rows_repeated_across_files_count_once_and_reconcile(tmp_path):
    rows = [usage("a", "C1", "sms", "2026-09-02T00:00:00Z", 5), usage("b", "C1", "sms", "2026-09-03T00:00:00Z", 1)]
    ex = _base(tmp_path / "ex", usage_events=rows)
    write_extracts(ex, {"usage_events": rows}, file_name="part-2.csv")  # the extract delivered twice
    wh = tmp_path / "wh"
    bill(ex, wh, "2026-10")
    assert lines(wh, "C1", "2026-10-01") == [("sms", "usage", D("6"), D("0.10"), D("0.60"))]
    assert _usage_event_counts(wh) == {"table_name": "usage_events", "rows_read": 4, "rows_used": 2, "rows_rejected": 0,
                                      "duplicates_collapsed": 2, "is_reconciled": True}


@pytest.mark.parametrize(("listed_up_to", "picked_up_to"), [(2_000_000, 20_000), (2_000_000, 3), (3, 20_000)])
def test_duplicates_get_the_same_verdicts_whether_or_not_their_key_hashes_were_listed_first(
        tmp_path, monkeypatch, listed_up_to, picked_up_to):
    # the nine rows of the four repeated key hashes are listed before the deduplication and
    # pick out their lines as the events are read; listed but too many to pick them out; too
    # many to list, so the deduplication finds the hashes itself
    monkeypatch.setattr(models, "LISTED_REPEATED_ROWS", listed_up_to)
    monkeypatch.setattr(models, "PICKED_REPEATED_ROWS", picked_up_to)
    ex = _base(tmp_path / "ex", usage_events=[
        usage("a", "C1", "sms", "2026-09-02T00:00:00Z", 5),   # line 2, again in part-2: one copy counts
        usage("b", "C1", "sms", "2026-09-03T00:00:00Z", 1),   # line 3, again in part-2
        usage("c", "C1", "sms", "2026-09-04T00:00:00Z", 2),   # line 4 and
        usage("c", "C1", "sms", "2026-09-04T00:00:00Z", 3),   # line 5: the same key, other values
        usage("d", "C1", "sms", "2026-09-05T00:00:00Z", 4),   # line 6: its namesake in part-2 is rejected
    ])
    write_extracts(ex, {"usage_events": [
        usage("a", "C1", "sms", "2026-09-02T00:00:00Z", 5),
        usage("b", "C1", "sms", "2026-09-03T00:00:00Z", 1),
        usage("d", "C1", "sms", "2026-09-05T00:00:00Z", -1),  # line 4: rejected, so no rival of line 6
    ]}, file_name="part-2.csv")
    wh = tmp_path / "wh"
    bill(ex, wh, "2026-10")
    # a + b + d = 5 + 1 + 4 sms at 0.10
    assert lines(wh, "C1", "2026-10-01") == [("sms", "usage", D("10"), D("0.10"), D("1.00"))]
    rejects = query(wh, "select regexp_extract(source_file, '[^/]+$'), source_line, reason from rejects "
                        "order by all")
    conflict = "conflicting duplicate event_id: another row has the same key with different values"
    assert rejects == [("part-1.csv", 4, conflict), ("part-1.csv", 5, conflict), ("part-2.csv", 4, "negative quantity")]
    assert _usage_event_counts(wh) == {"table_name": "usage_events", "rows_read": 8, "rows_used": 3, "rows_rejected": 3,
                                      "duplicates_collapsed": 2, "is_reconciled": True}


def test_a_file_without_a_key_column_stops_the_run(tmp_path):
    ex = _base(tmp_path / "ex")
    (ex / "usage_events").mkdir()
    (ex / "usage_events" / "broken.csv").write_text("reseller_id,client_id,quantity\nR1,C1,4\n")
    with pytest.raises(ExtractError, match=r"broken.csv: missing key column\(s\) event_id"):
        run_period(ex, tmp_path / "wh", "2026-10", date(2026, 10, 1), datetime(2026, 10, 1))
    assert not (tmp_path / "wh").exists()


def test_an_empty_csv_file_stops_the_run_and_says_so(tmp_path):
    # no header row: the file cannot say which table columns it holds, so the run stops
    ex = _base(tmp_path / "ex")
    (ex / "usage_events").mkdir()
    (ex / "usage_events" / "day-14.csv").write_bytes(b"")
    with pytest.raises(ExtractError, match=r"day-14.csv: the file is empty \(a CSV extract starts with its header row\)"):
        run_period(ex, tmp_path / "wh", "2026-10", date(2026, 10, 1), datetime(2026, 10, 1))
    assert not (tmp_path / "wh").exists()


def test_a_link_to_another_extract_file_is_a_file_of_its_own_and_a_broken_link_stops_the_run(tmp_path):
    # `latest.csv` -> `day-02.csv`: the same rows delivered twice, each file with its own lines
    ex = _base(tmp_path / "ex")
    write_extracts(ex, {"usage_events": [usage("a", "C1", "sms", "2026-09-02T00:00:00Z", 5),
                                         usage("b", "C1", "sms", "2026-09-02T01:00:00Z", -1)]}, file_name="day-02.csv")
    (ex / "usage_events" / "latest.csv").symlink_to(ex / "usage_events" / "day-02.csv")
    wh = tmp_path / "wh"
    bill(ex, wh, "2026-10")
    assert lines(wh, "C1", "2026-10-01") == [("sms", "usage", D("5"), D("0.10"), D("0.50"))]
    assert query(wh, "select regexp_extract(source_file, '[^/]*$'), source_line, reason from rejects order by all") == [
        ("day-02.csv", 3, "negative quantity"), ("latest.csv", 3, "negative quantity")]
    assert _usage_event_counts(wh) == {"table_name": "usage_events", "rows_read": 4, "rows_used": 1, "rows_rejected": 2,
                                      "duplicates_collapsed": 1, "is_reconciled": True}
    (ex / "usage_events" / "day-03.csv").symlink_to(ex / "usage_events" / "gone.csv")
    with pytest.raises(ExtractError, match=r"day-03.csv: not a readable file \(a link to a file that does not exist\?\)"):
        run_period(ex, tmp_path / "wh2", "2026-10", date(2026, 10, 1), datetime(2026, 10, 1))
    assert not (tmp_path / "wh2").exists()


def test_files_in_a_folder_inside_a_table_folder_or_of_no_table_are_not_read_and_the_run_says_so(tmp_path, caplog):
    ex = _base(tmp_path / "ex", usage_events=[usage("a", "C1", "sms", "2026-09-02T00:00:00Z", 5)])
    moved = ex / "usage_events" / "2026-09" / "week-2"
    moved.mkdir(parents=True)
    (moved / "day-09.csv").write_text("reseller_id,event_id,client_id,item_code,occurred_at,quantity\n"
                                      "R1,b,C1,sms,2026-09-09T00:00:00Z,7\n")
    (ex / "usage_events" / "notes").mkdir()  # a folder without extract files: nothing to say
    (ex / "Usage-Events").mkdir()  # not the table's name
    (ex / "Usage-Events" / "day-10.parquet").write_bytes(b"")
    wh = tmp_path / "wh"
    with caplog.at_level("WARNING", logger="transforms.extracts"):
        bill(ex, wh, "2026-10")
    assert lines(wh, "C1", "2026-10-01") == [("sms", "usage", D("5"), D("0.10"), D("0.50"))]
    assert [r.getMessage() for r in caplog.records if r.name == "transforms.extracts"] == [
        f"{ex / 'Usage-Events'}: not a table of the contract ({', '.join(EXTRACT_TABLES)}); "
        "its .csv/.parquet files are not read",
        f"{ex / 'usage_events' / '2026-09'}: a folder inside usage_events is not read; "
        "its .csv/.parquet files are not billed"]


def test_an_empty_extracts_folder_bills_nothing_and_still_records_the_run(tmp_path):
    (tmp_path / "ex").mkdir()
    wh = tmp_path / "wh"
    summary = bill(tmp_path / "ex", wh, "2026-10", validate=True)
    assert (summary.invoices, summary.rows_read) == (0, 0)
    assert query(wh, "select validation, input_files from runs") == [("passed 39 suites with 11 warning(s)", None)]


def test_repeated_key_hashes_are_listed_with_their_lines_and_none_repeated_is_an_empty_list(monkeypatch):
    """models.repeated_key_hashes_listed: each repeated hash once, the lines of every row that
    shares one; a table with no repeated key lists nothing (an empty list: the deduplication
    then looks for none itself), and one with too many rows to list leaves it to the
    deduplication (no list)."""
    con = models.connect()
    try:
        con.execute("create table stg_t as select * from (values (7, 2), (8, 3), (7, 9), (9, 4), (7, 5), (8, 6)) "
                    "as t(_key_hash, _source_line)")
        con.execute("create table stg_u as select * from (values (7, 2), (8, 3)) as t(_key_hash, _source_line)")

        def listed(table):
            with models.repeated_key_hashes_listed(con, table):
                return con.execute(f"select list_sort(getvariable('{table}_repeated_key_hashes')), "
                                   f"list_sort(getvariable('{table}_picked_lines'))").fetchone()

        assert listed("t") == ([7, 8], [2, 3, 5, 6, 9])
        assert listed("u") == ([], [])
        monkeypatch.setattr(models, "LISTED_REPEATED_ROWS", 4)  # five rows share a hash
        assert listed("t") == (None, None)
    finally:
        con.close()
