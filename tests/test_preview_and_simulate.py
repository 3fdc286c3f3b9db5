"""Preview and simulation (billing-rules.md section 10): E12 and E13 by hand, the preview
against the invoice really billed, an empty proposal, bad proposals and bad flags."""

import csv
from datetime import date, datetime, timedelta
from pathlib import Path

from helpers import R1, D, bill, client, e2_tables, price, query, usage, write_extracts
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_cli import _billing

from transforms import simulate
from transforms.contract import EXTRACT_TABLES
from transforms.pipeline import run_night
from transforms.preview import preview

E1_PRICING = [price("emails", cycle_fee="20.00", included_units=10000, metered=False, overage_fee="0.0015")]


def _lines(rows: list[tuple], columns: list[str], *names: str) -> list[tuple]:
    return [tuple(dict(zip(columns, row))[n] for n in names) for row in rows]


def test_e12_preview_before_the_bill_date(tmp_path):
    """4,000 emails by the end of 09-05, 11,000 by the end of 09-20, 12,500 by 09-30."""
    ex = write_extracts(tmp_path / "ex", {
        "resellers": [R1], "clients": [client("C1")], "pricing": E1_PRICING,
        "usage_events": [usage("e1", "C1", "emails", "2026-09-05T23:59:59Z", 4000),
                         usage("e2", "C1", "emails", "2026-09-20T08:00:00Z", 7000),
                         usage("e3", "C1", "emails", "2026-09-21T08:00:00Z", 1500)],
    })
    names = ("bill_date", "item_code", "line_type", "quantity", "amount", "included_units_left")
    columns, rows = preview(ex, date(2026, 9, 5))
    assert _lines(rows, columns, *names) == [
        (date(2026, 10, 1), "emails", "cycle_fee", D("1"), D("20.00"), D("6000"))]
    columns, rows = preview(ex, date(2026, 9, 20))
    assert _lines(rows, columns, *names) == [
        (date(2026, 10, 1), "emails", "cycle_fee", D("1"), D("20.00"), D("0")),
        (date(2026, 10, 1), "emails", "overage", D("1000"), D("1.50"), D("0")),
    ]
    columns, rows = preview(ex, date(2026, 9, 30))
    assert sum(r[columns.index("amount")] for r in rows) == D("23.75")
    bill(ex, tmp_path / "wh", "2026-10")  # the invoice billed on 10-01 is the 09-30 preview
    assert query(tmp_path / "wh", "select total from invoices") == [(D("23.75"),)]
    assert not (tmp_path / "wh" / "invoice_preview").exists()  # a period run publishes no preview


def test_a_preview_shows_bonus_and_maximum_left_and_skips_cancelled_clients(tmp_path):
    """sms metered at 0.10 with 100 included, a bonus pool of 50 and a maximum of 500: 120
    units by 09-10 use 100 included and 20 of the bonus (30 left), 380 before the maximum.
    A client cancelled on 09-10 has no preview as of 09-10."""
    ex = write_extracts(tmp_path / "ex", {
        "resellers": [R1], "clients": [client("C1"), client("C9", cancel_date="2026-09-10")],
        "pricing": [price("sms", metered=True, unit_fee="0.10", included_units=100, bonus_units=50, max_units=500)],
        "usage_events": [usage("s1", "C1", "sms", "2026-09-10T10:00:00Z", 120),
                         usage("s2", "C9", "sms", "2026-09-09T10:00:00Z", 30)],
    })
    columns, rows = preview(ex, date(2026, 9, 10))
    assert _lines(rows, columns, "client_id", "line_type", "quantity", "amount", "included_units_left",
                  "bonus_units_left", "units_left_before_max") == [
        ("C1", "allotment", D("120"), D("0.00"), D("0"), D("30"), D("380"))]


def test_the_nightly_run_publishes_the_preview_of_every_client(tmp_path):
    ex = write_extracts(tmp_path / "ex", {
        "resellers": [R1], "clients": [client("C1"), client("C2", bill_day=15)], "pricing": E1_PRICING,
        "usage_events": [usage("e1", "C1", "emails", "2026-09-14T08:00:00Z", 12500)],
    })
    wh = tmp_path / "wh"
    run_night(ex, wh, date(2026, 9, 20), datetime(2026, 9, 21, 2), validate=False)
    run_night(ex, wh, date(2026, 9, 21), datetime(2026, 9, 22, 2), validate=False)
    assert query(wh, "select client_id, as_of::varchar, bill_date::varchar, line_type, amount "
                     "from invoice_preview_current order by all") == [
        ("C1", "2026-09-21", "2026-10-01", "cycle_fee", D("20.00")),
        ("C1", "2026-09-21", "2026-10-01", "overage", D("3.75")),
        ("C2", "2026-09-21", "2026-10-15", "cycle_fee", D("20.00")),
    ]
    assert query(wh, "select count(distinct as_of) from invoice_preview") == [(2,)]
    assert query(wh, "select count(*) from invoices where client_id = 'C1'") == [(0,)]  # not an invoice


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    bill_day=st.integers(1, 28),
    quantities=st.lists(st.integers(0, 4000), min_size=1, max_size=4),
    included=st.integers(0, 3000),
    metered=st.booleans(),
)
def test_the_preview_the_day_before_a_bill_date_is_the_invoice_billed_on_it(tmp_path_factory, bill_day, quantities,
                                                                               included, metered):
    folder = tmp_path_factory.mktemp("prop")
    bill_date = date(2026, 10, bill_day)
    window_start = date(2026, 9, bill_day)
    events = [usage(f"e{i}", "C1", "sms", f"{window_start + timedelta(days=2 * i)}T12:00:00Z", q)
              for i, q in enumerate(quantities)]
    ex = write_extracts(folder / "ex", {
        "resellers": [R1], "clients": [client("C1", start="2026-08-01", bill_day=bill_day)],
        "pricing": [price("sms", cycle_fee="5.00", metered=metered, unit_fee="0.02", included_units=included,
                          overage_fee="0.03", min_units=100)],
        "usage_events": events,
    })
    columns, rows = preview(ex, bill_date - timedelta(days=1))
    previewed = sorted((r[columns.index("line_type")], r[columns.index("quantity")], r[columns.index("amount")])
                       for r in rows if r[columns.index("line_type")] != "allotment")
    wh = folder / "wh"
    run_night(ex, wh, bill_date, datetime(2026, 10, 28, 3), validate=False)
    billed = query(wh, "select line_type, quantity, amount from invoice_lines order by all")
    assert previewed == billed


def _e2(folder: Path) -> Path:
    return write_extracts(folder, e2_tables())


def _proposal(path: Path, rows: list[dict]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    columns = EXTRACT_TABLES["pricing"].columns
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        for row in rows:
            writer.writerow({c: row.get(c, "") for c in columns})
    return path


def test_e13_simulation_of_a_group_price(tmp_path):
    ex = _e2(tmp_path / "ex")
    proposed = _proposal(tmp_path / "proposed.csv", [
        price("users", level="group", group_id="G1", effective_from="2026-09-01", unit_fee="18.00")])
    result = simulate.simulate(ex, "2026-10", proposed)
    columns, rows = result.tables["by_client"]
    assert [tuple(r) for r in rows] == [
        ("R1", "C3", "USD", D("80.00"), D("72.00"), D("-8.00"), D("-10.00")),
        ("R1", "C2", "USD", D("40.00"), D("36.00"), D("-4.00"), D("-10.00")),
        ("R1", "C4", "USD", D("100.00"), D("100.00"), D("0.00"), D("0.00")),
    ]
    assert result.tables["by_reseller_item"][1] == [("R1", "USD", "users", D("220.00"), D("208.00"), D("-12.00"),
                                                     D("-5.45"))]
    assert result.proposed_rejects[1] == []


def test_a_proposed_row_replaces_the_extract_row_with_its_key(tmp_path):
    """The account row of users (effective 2026-01-01) proposed at 30.00: C4 pays 4 x 30."""
    ex = _e2(tmp_path / "ex")
    proposed = _proposal(tmp_path / "p" / "sheet.csv", [
        price("users", metered=True, unit_fee="30.00", included_units=1)])
    columns, rows = simulate.simulate(ex, "2026-10", tmp_path / "p").tables["by_client"]
    assert rows[0][:6] == ("R1", "C4", "USD", D("100.00"), D("120.00"), D("20.00"))
    assert proposed.exists() and len(rows) == 3


def test_an_empty_proposed_sheet_changes_nothing(tmp_path):
    ex = _e2(tmp_path / "ex")
    result = simulate.simulate(ex, "2026-10", _proposal(tmp_path / "empty.csv", []))
    for report, (columns, rows) in result.tables.items():
        assert rows, report
        assert all(row[columns.index("difference")] == 0 for row in rows), report


def test_a_proposed_row_that_breaks_the_contract_is_rejected_like_an_extract_row(tmp_path):
    ex = _e2(tmp_path / "ex")
    proposed = _proposal(tmp_path / "bad.csv", [
        price("users", level="group", group_id="G1", effective_from="2026-09-01", unit_fee="eighteen"),
        price("users", level="group", group_id="G9", effective_from="2026-09-01", unit_fee="18.00"),
    ])
    result = simulate.simulate(ex, "2026-10", proposed)
    columns, rows = result.proposed_rejects
    assert [(r[1], r[2]) for r in rows] == [(2, "unit_fee is not an amount of 0 or more"), (3, "unknown group G9")]
    assert {r[0] for r in rows} == {str(proposed.resolve())}  # the file as given, not the scratch link to it
    assert all(row[result.tables["by_client"][0].index("difference")] == 0 for row in result.tables["by_client"][1])


def test_simulate_and_preview_on_the_command_line(tmp_path):
    ex = _e2(tmp_path / "ex")
    proposed = _proposal(tmp_path / "proposed.csv", [
        price("users", level="group", group_id="G1", effective_from="2026-09-01", unit_fee="18.00")])
    done = _billing("simulate", "--extracts", str(ex), "--period", "2026-10", "--pricing", str(proposed),
                    "--out", str(tmp_path / "out"), home=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "-12.00" in done.stdout
    assert (tmp_path / "out" / "simulation-2026-10.html").read_text().count('<svg class="chart"') >= 1
    assert "C3,USD,80.00,72.00,-8.00" in (tmp_path / "out" / "by_client.csv").read_text()
    done = _billing("preview", "--extracts", str(ex), "--as-of", "2026-09-30", "--client", "C4", "--format", "csv",
                    home=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0].startswith("reseller_id,client_id,as_of,bill_date")
    assert ",C4,2026-09-30,2026-10-01," in done.stdout and ",100.00," in done.stdout
    for args, message in [
        (("simulate", "--extracts", str(ex), "--period", "2026-13", "--pricing", str(proposed)), "period must be"),
        (("simulate", "--extracts", str(tmp_path / "nope"), "--period", "2026-10", "--pricing", str(proposed)),
         "extracts folder not found"),
        (("simulate", "--extracts", str(ex), "--period", "2026-10", "--pricing", str(tmp_path / "none.csv")),
         "--pricing must be"),
        (("preview", "--extracts", str(ex), "--as-of", "yesterday"), "--as-of must be a date"),
        (("preview", "--extracts", str(tmp_path / "nope"), "--as-of", "2026-09-30"), "extracts folder not found"),
    ]:
        done = _billing(*args, home=tmp_path)
        assert done.returncode != 0 and len(done.stderr.strip().splitlines()) == 1, (args, done.stderr)
        assert message in done.stderr, (args, done.stderr)
