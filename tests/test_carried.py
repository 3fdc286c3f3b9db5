"""A night reads only the events files that are new or changed (transforms/carried.py): the
verdicts of unchanged files' rows are kept from the run before, except where an arriving or
departing row shares their key. The published result is byte for byte that of a run that
reads every file."""

import json
import logging
import shutil
from datetime import date, datetime
from pathlib import Path

import duckdb
from helpers import query

from transforms import carried, unchanged
from transforms.extracts import list_extract_files
from transforms.pipeline import run_night
from transforms.sample_data import write_sample
from transforms.sqltext import literal

NIGHT_1, NIGHT_2 = date(2026, 9, 14), date(2026, 9, 15)


def _split_events(ex: Path) -> None:
    """The sample's events as five CSV files, each event in one of them by its id's hash."""
    con = duckdb.connect()
    con.execute("set TimeZone = 'UTC'")
    source = ex / "usage_events" / "events.parquet"
    con.execute(f"create table events as select * from read_parquet({literal(str(source))})")
    source.unlink()
    for week in range(5):
        target = ex / "usage_events" / f"week-{week}.csv"
        con.execute(
            "copy (select reseller_id, event_id, client_id, item_code, "
            "strftime(occurred_at, '%Y-%m-%dT%H:%M:%SZ') as occurred_at, quantity::varchar as quantity "
            f"from events where (hash(event_id) % 5) = {week} order by event_id) "
            f"to {literal(str(target))} (header, delimiter ',')")
    con.close()


def _append(path: Path, rows: list[str]) -> None:
    with path.open("a") as handle:
        handle.writelines(row + "\n" for row in rows)


def _first_rows(path: Path, count: int) -> list[str]:
    return path.read_text().splitlines()[1:count + 1]


def _published(warehouse: Path) -> dict[str, bytes]:
    return {str(p.relative_to(warehouse)): p.read_bytes() for p in sorted(warehouse.rglob("*.parquet"))
            if p.relative_to(warehouse).parts[0] not in ("_run_state", "data_docs")}


def _manifest(warehouse: Path) -> dict:
    return json.loads((warehouse / carried.STATE / carried.MANIFEST).read_text())


def _rows(parquet: Path) -> int:
    with duckdb.connect() as con:
        return con.execute(f"select count(*) from read_parquet({literal(str(parquet))})").fetchone()[0]


def test_a_night_with_new_and_changed_events_files_publishes_what_reading_every_file_does(tmp_path):
    ex = write_sample(tmp_path / "ex", n_clients=40, n_events=20_000)
    _split_events(ex)
    folder = ex / "usage_events"
    wh = tmp_path / "wh"
    run_night(ex, wh, NIGHT_1, datetime(2026, 9, 15, 2), validate=False, preview=False)
    first_parts = _manifest(wh)["parts"]
    assert len(first_parts) == 6  # five weeks and the sample's late_fixes.csv, each read

    # a new file: an exact copy of a week-0 event (a duplicate), the key of a week-1 event with
    # another quantity (both rows now conflict: week 1's row is newly rejected), and a new event
    copied, contradicted = _first_rows(folder / "week-0.csv", 1)[0], _first_rows(folder / "week-1.csv", 1)[0]
    fields = contradicted.split(",")
    new_event = copied.split(",")
    new_event[1] = "NEW-EVENT-1"
    (folder / "week-5.csv").write_text("reseller_id,event_id,client_id,item_code,occurred_at,quantity\n"
                                       + "\n".join([copied, ",".join(fields[:5] + ["999"]), ",".join(new_event)])
                                       + "\n")
    # a changed file: week 2 loses its first event and gains a row whose quantity is not a number
    week_2 = (folder / "week-2.csv").read_text().splitlines()
    dropped = week_2[1]
    (folder / "week-2.csv").write_text("\n".join([week_2[0], *week_2[2:]]) + "\n")
    _append(folder / "week-2.csv", [",".join(dropped.split(",")[:1] + ["BAD-QTY"] + dropped.split(",")[2:5] + ["x"])])

    full = tmp_path / "wh-full"
    shutil.copytree(wh, full)
    shutil.rmtree(full / carried.STATE)  # no kept verdicts: this night reads every file
    files = list_extract_files(ex)
    plan = carried.plan(wh, files, unchanged.code_digest())
    assert sorted(Path(f.path).name for f in plan.reads) == ["week-2.csv", "week-5.csv"]
    assert sorted(Path(p).name for p in plan.kept) == ["late_fixes.csv", "week-0.csv", "week-1.csv",
                                                       "week-3.csv", "week-4.csv"]
    assert len(plan.departed) == 1  # week 2 as it was

    for warehouse in (wh, full):
        run_night(ex, warehouse, NIGHT_2, datetime(2026, 9, 16, 2), validate=False, preview=False)
    assert _published(wh) == _published(full)
    assert len(_published(wh)) > 10

    parts = _manifest(wh)["parts"]
    unchanged_weeks = {p: entry for p, entry in parts.items() if Path(p).name in ("week-3.csv", "week-4.csv")}
    assert unchanged_weeks == {p: first_parts[p] for p in unchanged_weeks}  # not rewritten
    for name in ("week-0.csv", "week-1.csv", "week-2.csv", "week-5.csv"):  # read, or a row reconsidered
        (entry,) = [e for p, e in parts.items() if Path(p).name == name]
        assert entry[1].startswith("run-20260916"), name
    # the other extract tables' share, kept by the first night, served the second (same context)
    assert _manifest(wh)["other_extracts"] == "run-20260915T020000000000Z.other_extracts"
    assert sorted(path.name for path in (wh / carried.STATE).iterdir()) == sorted(  # the parts no file names are gone
        {carried.MANIFEST, _manifest(wh)["other_extracts"]}
        | {name for entry in parts.values() for name in (entry[1], carried.rejected_name(entry[1]))})

    rejects = query(wh, "select source_file, reason, raw from rejects where period = '2026-09' "
                        "and table_name = 'usage_events' order by all")
    week_1_line = [(Path(f).name, reason, raw) for f, reason, raw in rejects if Path(f).name == "week-1.csv"]
    assert len(week_1_line) == 1 and week_1_line[0][1].startswith("conflicting duplicate")
    assert fields[1] in week_1_line[0][2]  # the row as read, from the file read again for it
    assert any(Path(f).name == "week-2.csv" and "BAD-QTY" in raw for f, _, raw in rejects)


def test_a_changed_clients_file_reads_every_events_file_again(tmp_path):
    ex = write_sample(tmp_path / "ex", n_clients=20, n_events=2_000)
    wh = tmp_path / "wh"
    run_night(ex, wh, NIGHT_1, datetime(2026, 9, 15, 2), validate=False, preview=False)
    assert len(carried.plan(wh, list_extract_files(ex), unchanged.code_digest()).reads) == 0
    clients = ex / "clients" / "extract.csv"
    clients.write_text(clients.read_text() + "\n")  # any change of content
    plan = carried.plan(wh, list_extract_files(ex), unchanged.code_digest())
    assert len(plan.reads) == 2 and not plan.kept


def test_a_file_without_rows_is_kept_and_a_lost_part_reads_every_file_again(tmp_path):
    ex = write_sample(tmp_path / "ex", n_clients=20, n_events=2_000)
    (ex / "usage_events" / "empty.csv").write_text("reseller_id,event_id,client_id,item_code,occurred_at,quantity\n")
    wh = tmp_path / "wh"
    run_night(ex, wh, NIGHT_1, datetime(2026, 9, 15, 2), validate=False, preview=False)
    parts = _manifest(wh)["parts"]
    assert len(parts) == 3 and len({entry[1] for entry in parts.values()}) == 1  # one part for the night
    plan = carried.plan(wh, list_extract_files(ex), unchanged.code_digest())
    assert len(plan.kept) == 3 and not plan.reads

    late = next(p for p in parts if p.endswith("late_fixes.csv"))
    (wh / carried.STATE / parts[late][1]).unlink()
    Path(late).unlink()
    plan = carried.plan(wh, list_extract_files(ex), unchanged.code_digest())
    assert sorted(Path(f.path).name for f in plan.reads) == ["empty.csv", "events.parquet"] and not plan.kept


def test_a_removed_file_and_an_unreadable_part_publish_what_reading_every_file_does(tmp_path):
    """A removed file's rows leave (the copy of one of its events in another file becomes the
    row kept); a part that cannot be read costs one full read, never a failed night."""
    ex = write_sample(tmp_path / "ex", n_clients=40, n_events=20_000)
    _split_events(ex)
    folder = ex / "usage_events"
    _append(folder / "week-4.csv", _first_rows(folder / "week-3.csv", 2))  # exact copies, in a later file
    wh = tmp_path / "wh"
    run_night(ex, wh, NIGHT_1, datetime(2026, 9, 15, 2), validate=False, preview=False)
    (folder / "week-3.csv").unlink()
    full = tmp_path / "wh-full"
    shutil.copytree(wh, full)
    shutil.rmtree(full / carried.STATE)
    plan = carried.plan(wh, list_extract_files(ex), unchanged.code_digest())
    assert not plan.reads and len(plan.departed) == 1
    for warehouse in (wh, full):
        run_night(ex, warehouse, NIGHT_2, datetime(2026, 9, 16, 2), validate=False, preview=False)
    assert _published(wh) == _published(full)
    parts = _manifest(wh)["parts"]
    assert not any(p.endswith("week-3.csv") for p in parts)
    (week_4,) = [entry for p, entry in parts.items() if p.endswith("week-4.csv")]
    assert week_4[1].startswith("run-20260916")  # its copies were reconsidered: now the rows kept

    part_file = wh / carried.STATE / week_4[1]
    part_file.write_bytes(b"not parquet")
    (folder / "week-3.csv").write_text("reseller_id,event_id,client_id,item_code,occurred_at,quantity\n")
    shutil.rmtree(full)
    shutil.copytree(wh, full)
    shutil.rmtree(full / carried.STATE)
    for warehouse in (wh, full):
        run_night(ex, warehouse, NIGHT_2, datetime(2026, 9, 16, 3), validate=False, preview=False)
    assert _published(wh) == _published(full)
    assert {entry[1] for entry in _manifest(wh)["parts"].values()} == {"run-20260916T030000000000Z.parquet"}


def test_a_manifest_not_as_written_reads_every_file_again(tmp_path):
    ex = write_sample(tmp_path / "ex", n_clients=20, n_events=2_000)
    wh = tmp_path / "wh"
    run_night(ex, wh, NIGHT_1, datetime(2026, 9, 15, 2), validate=False, preview=False)
    manifest = wh / carried.STATE / carried.MANIFEST
    written = json.loads(manifest.read_text())
    for broken in ("{", "[]", json.dumps({"context": written["context"]}),
                   json.dumps(written | {"parts": {p: [sha, None] for p, (sha, _) in written["parts"].items()}}),
                   json.dumps(written | {"parts": {p: [sha, "../../x.parquet"] for p, (sha, _) in
                                                   written["parts"].items()}})):
        manifest.write_text(broken)
        plan = carried.plan(wh, list_extract_files(ex), unchanged.code_digest())
        assert len(plan.reads) == 2 and not plan.kept, broken
    run_night(ex, wh, NIGHT_2, datetime(2026, 9, 16, 2), validate=False, preview=False)  # and writes it anew
    assert len(carried.plan(wh, list_extract_files(ex), unchanged.code_digest()).kept) == 2


def test_a_lost_file_of_rejected_rows_costs_one_full_read_and_keeps_every_row_as_read(tmp_path, caplog):
    """Beside each part, `<part>.rejected.parquet` holds the rows as read of its rejected rows;
    when it is gone, the night reads every file again and its rejects still show each row."""
    ex = write_sample(tmp_path / "ex", n_clients=20, n_events=2_000)
    wh = tmp_path / "wh"
    run_night(ex, wh, NIGHT_1, datetime(2026, 9, 15, 2), validate=False, preview=False)
    (part,) = {entry[1] for entry in _manifest(wh)["parts"].values()}
    kept_raws = duckdb.connect().execute(
        f"select count(*) from read_parquet({literal(str(wh / carried.STATE / carried.rejected_name(part)))})"
    ).fetchone()[0]
    (wh / carried.STATE / carried.rejected_name(part)).unlink()
    full = tmp_path / "wh-full"
    shutil.copytree(wh, full)
    shutil.rmtree(full / carried.STATE)
    with caplog.at_level(logging.WARNING, logger="transforms.pipeline"):
        run_night(ex, wh, NIGHT_2, datetime(2026, 9, 16, 2), validate=False, preview=False)
    assert "reading every extract file" in caplog.text
    run_night(ex, full, NIGHT_2, datetime(2026, 9, 16, 2), validate=False, preview=False)
    assert _published(wh) == _published(full)
    raws = query(wh, "select raw from rejects where table_name = 'usage_events' and period = '2026-09'")
    assert kept_raws > 0 and len(raws) > 0 and all(raw for (raw,) in raws)
    (part,) = {entry[1] for entry in _manifest(wh)["parts"].values()}
    assert part.startswith("run-20260916") and (wh / carried.STATE / carried.rejected_name(part)).is_file()


def test_the_other_extracts_share_is_kept_for_its_context_and_a_broken_copy_costs_one_full_read(tmp_path, caplog):
    """A night whose other extract files and code are those of the night before starts from
    the tables that night built from them, and reads none of those files; a changed clients
    file is read and its share kept anew; a kept file that cannot be read costs one full
    read, never a failed night or another result."""
    ex = write_sample(tmp_path / "ex", n_clients=20, n_events=2_000)
    wh = tmp_path / "wh"
    run_night(ex, wh, NIGHT_1, datetime(2026, 9, 15, 2), validate=False, preview=False)
    first = _manifest(wh)["other_extracts"]
    files = list_extract_files(ex)
    plan = carried.plan(wh, files, unchanged.code_digest())
    assert plan.other_extracts == wh / carried.STATE / first
    assert [f.table for f in files if plan.reads_file(f)] == []  # no extract file is read again
    as_parquet = {"int_clients_validated", "int_clients_dated", "int_lead_sales_validated", "int_payments_validated",
                  "int_prices_resolved_by_hierarchy"}  # the kept models written as Parquet: kept as their files
    assert sorted(p.name for p in plan.other_extracts.iterdir()) == sorted(
        [f"{name}.parquet" for name in as_parquet] + [carried.OTHER_TABLES])
    with duckdb.connect(str(plan.other_extracts / carried.OTHER_TABLES), read_only=True) as kept:
        assert sorted(row[0] for row in kept.execute("show tables").fetchall()) == sorted(
            set(carried.other_extract_tables()) - as_parquet)
    assert _rows(plan.other_extracts / "int_clients_validated.parquet") == 20

    clients = ex / "clients" / "extract.csv"
    lines = clients.read_text().splitlines()
    clients.write_text("\n".join(lines + [lines[1].replace(lines[1].split(",")[1], "C-NEW", 1)]) + "\n")
    plan = carried.plan(wh, list_extract_files(ex), unchanged.code_digest())
    assert plan.other_extracts is None and {f.table for f in files if plan.reads_file(f)} == {
        f.table for f in files}
    full = tmp_path / "wh-full"
    shutil.copytree(wh, full)
    shutil.rmtree(full / carried.STATE)
    for warehouse in (wh, full):
        run_night(ex, warehouse, NIGHT_2, datetime(2026, 9, 16, 2), validate=False, preview=False)
    assert _published(wh) == _published(full)
    second = _manifest(wh)["other_extracts"]
    assert second == "run-20260916T020000000000Z.other_extracts"
    assert not (wh / carried.STATE / first).exists()  # the share kept for the other context is gone
    assert _rows(wh / carried.STATE / second / "int_clients_validated.parquet") == 21

    for broken in (carried.OTHER_TABLES, "int_prices_resolved_by_hierarchy.parquet"):
        minute = 3 if broken == carried.OTHER_TABLES else 4
        (wh / carried.STATE / _manifest(wh)["other_extracts"] / broken).write_bytes(b"not a database")
        shutil.rmtree(full)
        shutil.copytree(wh, full)
        shutil.rmtree(full / carried.STATE)
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="transforms.pipeline"):
            run_night(ex, wh, NIGHT_2, datetime(2026, 9, 16, minute), validate=False, preview=False)
        assert "kept ingest state unreadable, reading every extract file" in caplog.text, broken
        run_night(ex, full, NIGHT_2, datetime(2026, 9, 16, minute), validate=False, preview=False)
        assert _published(wh) == _published(full), broken
        assert _manifest(wh)["other_extracts"] == f"run-20260916T0{minute}0000000000Z.other_extracts"


def test_kept_verdicts_are_trusted_by_the_key_check_only_while_every_run_that_kept_them_was_checked(
        tmp_path, monkeypatch):
    """The usage events' key check counts on the kept rows' keys being unique only when the
    manifest says every part it names comes from a run that passed the GX suites; a run
    without the suites (a simulation, a rule test) makes the manifest unchecked until a run
    reads every file again."""
    from transforms import validation

    ex = write_sample(tmp_path / "ex", n_clients=10, n_events=2_000)
    _split_events(ex)
    wh = tmp_path / "wh"
    seen = []
    judged_and_kept = validation._judged_and_kept
    monkeypatch.setattr(validation, "_judged_and_kept",
                        lambda con, table: seen.append(judged_and_kept(con, table)) or seen[-1])

    def night(day: date, validate: bool, new_event: str | None = None) -> bool:
        if new_event is not None:
            row = _first_rows(ex / "usage_events" / "week-0.csv", 1)[0].split(",")
            (ex / "usage_events" / f"{new_event}.csv").write_text(
                "reseller_id,event_id,client_id,item_code,occurred_at,quantity\n"
                + ",".join([row[0], new_event, *row[2:]]) + "\n")
        seen.clear()
        run_night(ex, wh, day, datetime.combine(day, datetime.min.time()).replace(hour=23), validate=validate,
                  preview=False)
        return _manifest(wh)["checked"]

    assert night(NIGHT_1, validate=True) is True
    assert ("int_usage_events_validated", "(select * from int_usage_events_validated where false)") in seen
    assert night(NIGHT_2, validate=True, new_event="NEW-1") is True
    assert ("int_usage_events_verdicts", "kept_usage_events") in seen  # only the night's own rows checked anew
    assert night(date(2026, 9, 16), validate=False, new_event="NEW-2") is False
    assert night(date(2026, 9, 17), validate=True, new_event="NEW-3") is False  # it kept a part never checked
    assert ("int_usage_events_validated", "(select * from int_usage_events_validated where false)") in seen
    shutil.rmtree(wh / carried.STATE)
    assert night(date(2026, 9, 18), validate=True) is True  # every file read and checked again
