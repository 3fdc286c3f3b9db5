"""Great Expectations suites: a clean run passes every fail suite; corrupting any table
makes the right suite fail; a failed fail suite publishes nothing."""

import shutil
import threading
import time
from contextlib import contextmanager
from datetime import date, datetime

import pytest
from helpers import bill, query

from transforms import graph, models, pipeline, validation
from transforms.sample_data import write_sample


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    root = tmp_path_factory.mktemp("validation")
    extracts = write_sample(root / "ex", n_clients=40, n_events=20_000)
    work = root / "work.duckdb"
    pipeline.ingest(extracts, work)
    pipeline.build(work, root / "empty-warehouse", pipeline.period_params("check", "2026-09", date(2026, 9, 30)))
    return root, extracts, work


def test_a_clean_run_passes_every_fail_suite_and_publishes_data_docs(sample, tmp_path):
    _, extracts, _ = sample
    from transforms import data_docs_views  # imports GX: only where a test needs it

    wh = tmp_path / "wh"
    data_docs_views.COMPILED.clear()
    bill(extracts, wh, "2026-09", validate=True)
    ((summary, findings),) = query(wh, "select validation, validation_findings from runs")
    assert summary.startswith("passed 39 suites")
    assert all(not f.startswith(tuple(f"{t}.fail" for t in ("invoices", "charges"))) for f in findings or [])
    (page,) = list((wh / "data_docs").glob("*/index.html"))
    html = page.read_text()
    assert html.lstrip().lower().startswith("<!doctype html") and "expectations/invoices.html" in html
    # a table's fail and warn suites are validated together; each expectation's note says which it is
    suite_page = (page.parent / "expectations" / "invoices.html").read_text()
    assert "From invoices.fail.json: a failure stops the run" in suite_page
    assert "From invoices.warn.json: a failure is a warning" in suite_page
    # rendered by the views that keep their compiled templates (the site's configuration names them)
    assert len(data_docs_views.COMPILED) >= 2  # at least the page and the index page


def test_the_data_docs_are_written_while_the_run_publishes_and_published_with_it(sample, tmp_path, monkeypatch):
    """`validate` returns its verdicts before the Data Docs are written; publishing waits for
    them, so a slow writer's last page is still published with the run."""
    written = validation._write_docs

    def slow(context, target, *earlier_docs):
        time.sleep(0.5)
        written(context, target, *earlier_docs)
        (target / "last-page.html").write_text("late")

    monkeypatch.setattr(validation, "_write_docs", slow)
    _, extracts, _ = sample
    wh = tmp_path / "wh"
    bill(extracts, wh, "2026-09", validate=True)
    (page,) = list((wh / "data_docs").glob("*/last-page.html"))
    assert page.read_text() == "late" and (page.parent / "index.html").exists()
    assert not validation._docs_writers


def test_a_run_copies_the_suite_pages_of_the_last_run_that_rendered_the_same_suites(sample, tmp_path, monkeypatch):
    """The suites' Data Docs pages are the same for every run of the same suites; rendered
    pages carry their render time, so a copied page is byte for byte the earlier run's."""
    _, extracts, _ = sample
    wh = tmp_path / "wh"

    def suite_pages():
        (run,) = sorted(wh.glob("data_docs/*"))[-1:]
        return run, {page.name: page.read_bytes() for page in (run / "expectations").glob("*.html")}

    bill(extracts, wh, "2026-09", validate=True)
    first_run, first = suite_pages()
    assert len(first) == 20 and (first_run / "expectations" / validation.SUITES_DIGEST).is_file()
    bill(extracts, wh, "2026-10", as_of=date(2026, 10, 28), second=1, validate=True)
    second_run, second = suite_pages()
    assert second_run != first_run and second == first
    index = (second_run / "index.html").read_text()
    assert "expectations/invoices.html" in index and "validations/invoices/" in index
    assert len(list((second_run / "validations").rglob("*.html"))) == 20
    assert "From invoices.fail.json: a failure stops the run" in second["invoices.html"].decode()

    # other suites (another digest), or a page missing from the last run's: rendered anew
    monkeypatch.setattr(validation, "suites_digest", lambda: "other suites")
    bill(extracts, wh, "2026-11", as_of=date(2026, 11, 28), second=2, validate=True)
    third_run, third = suite_pages()
    assert third.keys() == first.keys() and third["invoices.html"] != first["invoices.html"]
    (third_run / "expectations" / "ledger.html").unlink()
    bill(extracts, wh, "2026-12", as_of=date(2026, 12, 28), second=3, validate=True)
    _, fourth = suite_pages()
    assert fourth.keys() == first.keys() and fourth["invoices.html"] != third["invoices.html"]


def test_the_data_docs_views_compile_a_template_once_and_again_only_when_its_source_changes(tmp_path):
    import jinja2

    from transforms import data_docs_views

    compiled = []

    def counting(view):  # what its environment compiles
        compile_ = view.env.compile
        view.env.compile = lambda source, *args, **kwargs: compiled.append(source) or compile_(source, *args, **kwargs)
        return view

    first, second = counting(data_docs_views.PageView()), counting(data_docs_views.IndexPageView())
    assert first.env.bytecode_cache is second.env.bytecode_cache is data_docs_views.COMPILED
    data_docs_views.COMPILED.clear()
    first.env.get_template("page.j2")
    assert len(compiled) >= 1
    already = len(compiled)
    second.env.get_template("page.j2")  # another environment: the compiled code is reused
    assert len(compiled) == already

    # a template whose source changed is compiled again (Jinja checks the source's checksum)
    (tmp_path / "t.j2").write_text("one {{ x }}")
    view = counting(data_docs_views.PageView(custom_views_directory=str(tmp_path)))
    assert view.env.get_template("t.j2").render(x=1) == "one 1"
    (tmp_path / "t.j2").write_text("two {{ x }}")
    fresh = counting(data_docs_views.PageView(custom_views_directory=str(tmp_path)))
    assert fresh.env.get_template("t.j2").render(x=2) == "two 2"
    assert compiled[-2:] == ["one {{ x }}", "two {{ x }}"]
    assert isinstance(data_docs_views.COMPILED, jinja2.BytecodeCache)


def test_data_docs_that_fail_to_render_are_a_warning_never_the_runs_failure(sample, tmp_path, monkeypatch, caplog):
    def broken(self, *args, **kwargs):
        raise ValueError("template missing")

    from great_expectations.data_context import AbstractDataContext
    monkeypatch.setattr(AbstractDataContext, "build_data_docs", broken)
    with _scratch(sample, tmp_path) as con:
        report = validation.validate(con, tmp_path / "docs" / "run-1")
    validation.docs_written(tmp_path / "docs")
    assert not report.failures and report.summary.startswith("passed 39 suites")
    assert not (tmp_path / "docs").exists()
    assert [r.getMessage() for r in caplog.records if r.name == "transforms.validation"] == [
        f"Data Docs not written to {tmp_path / 'docs' / 'run-1'}: template missing"]


CORRUPTIONS = {
    "invoices.fail": "update invoices set total = total + 1 where invoice_id = (select min(invoice_id) from invoices)",
    "invoice_lines.fail": "update invoice_lines set line_type = 'bogus' where line_no = 1",
    "usage_summary.fail": "update usage_summary set billable_units = billable_units + 1 where is_enabled",
    "ledger.fail": "update ledger set entry_id = 'LE-SAME'",
    "account_status.fail": "update account_status set status = 'frozen'",
    "charges.fail": "update charges set amount = -5",
    "rejects.fail": "update rejects set reason = null",
    "runs.fail": "update int_input_rows_reconciled set is_reconciled = false where table_name = 'usage_events'",
    "billed_clients.fail": "delete from invoices where kind = 'cycle'",
    "pricing.fail": "update int_pricing_validated set level = 'galaxy' where reject_reason is null",
    "usage_events.fail": "update int_usage_events_verdicts set quantity = -1 where reject_reason is null",
    "clients.fail": "update int_clients_validated set processor = 'cash' where reject_reason is null",
}


@contextmanager
def _scratch(sample, tmp_path):
    """A connection to a copy of the sample's work database, the models written as Parquet
    (views over their files: materialize: parquet) copied into tables there so a test can
    change them."""
    scratch = tmp_path / "work.duckdb"
    shutil.copy(sample[2], scratch)
    con = models.connect(scratch)
    views = {name for (name,) in con.execute("select view_name from duckdb_views()").fetchall()}
    for name in sorted(views & {name for name, model in graph.models().items() if model.materialize == "parquet"}):
        con.execute(f"create table {name}_copy as select * from {name}")
        con.execute(f"drop view {name}")
        con.execute(f"alter table {name}_copy rename to {name}")
    try:
        yield con
    finally:
        con.close()


@pytest.mark.parametrize("suite", sorted(CORRUPTIONS))
def test_corrupting_a_table_fails_its_suite_on_the_whole_and_the_narrowed_frames(sample, tmp_path, monkeypatch,
                                                                                   suite):
    """The corruption fails its suite; with no sample rows at all a frame holds only the rows
    that break an expectation, and every suite reaches the same findings as on whole frames."""
    with _scratch(sample, tmp_path) as con:
        con.execute(CORRUPTIONS[suite])
        monkeypatch.setattr(validation, "SAMPLE_ROWS", 10**9)
        whole = validation.validate(con, None)
        monkeypatch.setattr(validation, "SAMPLE_ROWS", 0)
        narrowed = validation.validate(con, None)
    assert suite in {f.suite for f in whole.failures}, whole.failures
    assert {(f.suite, f.expectation, f.column) for f in narrowed.failures} == {
        (f.suite, f.expectation, f.column) for f in whole.failures}
    assert {(f.suite, f.expectation, f.column) for f in narrowed.warnings} == {
        (f.suite, f.expectation, f.column) for f in whole.warnings}


def test_a_frame_is_narrowed_to_its_breaking_rows_and_the_sample(sample, tmp_path, monkeypatch):
    with _scratch(sample, tmp_path) as con:
        lines = con.execute("select count(*) from invoice_lines").fetchone()[0]
        con.execute("update invoice_lines set amount = 123456 where line_no = 1 and invoice_id = "
                    "(select max(invoice_id) from invoice_lines)")  # above the warn suite's 100000
        monkeypatch.setattr(validation, "SAMPLE_ROWS", 3)
        frame = validation.check_frames(con)["invoice_lines"]
        report = validation.validate(con, None)
    assert lines > 100
    assert len(frame) == 4 and list(frame["amount"]).count(123456) == 1
    assert [(f.suite, f.column) for f in report.warnings if f.suite.startswith("invoice_lines")] == [
        ("invoice_lines.warn", "amount")]


def test_a_value_on_a_bound_is_narrowed_away_unless_the_bound_is_strict(sample, tmp_path, monkeypatch):
    """usage_summary.warn expects billable_units between 0 and 10,000,000: a row on either
    bound passes and is left out of the frame (most rows bill 0 units); a row past it stays."""
    between = {"type": "expect_column_values_to_be_between", "kwargs": {"column": "units", "min_value": 0,
                                                                          "max_value": 10}}
    assert validation._failing_rows(between) == '"units" < 0 or "units" > 10'
    between["kwargs"] |= {"strict_min": True, "strict_max": True}
    assert validation._failing_rows(between) == '"units" <= 0 or "units" >= 10'
    with _scratch(sample, tmp_path) as con:
        on_bound = con.execute("select count(*) from usage_summary where billable_units = 0").fetchone()[0]
        for row, units in ((0, 10_000_000), (1, 10_000_001)):  # the units still add up to the quantity
            con.execute("update usage_summary set billable_units = $units, quantity = quantity - billable_units "
                        "+ $units where rowid = $row", {"units": units, "row": row})
        monkeypatch.setattr(validation, "SAMPLE_ROWS", 0)
        frame = validation.check_frames(con)["usage_summary"]
        report = validation.validate(con, None)
    assert on_bound > 10
    assert list(frame["billable_units"]) == [10000001]
    assert [(f.suite, f.column) for f in report.warnings if f.suite.startswith("usage_summary")] == [
        ("usage_summary.warn", "billable_units")]


def test_distinct_keys_are_counted_exactly_where_two_keys_share_a_hash(sample, tmp_path):
    """Keys are counted by their 64-bit hash and exactly where a hash repeats: two different
    events given one hash are still two keys (the suite passes); a key used twice is one."""
    used = "select count(*) from int_usage_events_validated where reject_reason is null and not is_duplicate"
    two_rows = ("(select rowid from int_usage_events_verdicts where reject_reason is null and not is_duplicate "
                "order by _source_line limit 2)")
    with _scratch(sample, tmp_path) as con:
        rows = con.execute(used).fetchone()[0]
        con.execute(f"update int_usage_events_verdicts set _key_hash = 42 where rowid in {two_rows}")
        shared = validation.check_frames(con)["usage_events"]
        shared_report = validation.validate(con, None)
        con.execute("update int_usage_events_verdicts set reseller_id = 'R1', event_id = 'same' where _key_hash = 42")
        repeated = validation.check_frames(con)["usage_events"]
        repeated_report = validation.validate(con, None)
        third_row = ("(select rowid from int_usage_events_verdicts where reject_reason is null "
                     "and not is_duplicate and _key_hash <> 42 order by _source_line limit 1)")
        con.execute(f"update int_usage_events_verdicts set _key_hash = 42 where rowid in {third_row}")
        three_rows_two_keys = validation.check_frames(con)["usage_events"]
    assert rows > 10_000
    assert (shared["used_rows"][0], shared["distinct_keys"][0]) == (rows, rows)
    assert "usage_events.fail" not in {f.suite for f in shared_report.failures}
    assert (repeated["used_rows"][0], repeated["distinct_keys"][0]) == (rows, rows - 1)
    assert [(f.suite, f.column) for f in repeated_report.failures] == [("usage_events.fail", "used_rows")]
    # a hash on three rows: two hold key (R1, same), the third its own key: two keys
    assert (three_rows_two_keys["used_rows"][0], three_rows_two_keys["distinct_keys"][0]) == (rows, rows - 1)


def test_a_night_counts_its_new_event_keys_against_the_kept_ones_and_samples_only_its_own(sample, tmp_path):
    """A run that kept verdicts from runs that passed the suites checks key uniqueness on its
    own rows and between them and the kept ones (the kept keys were found unique then), and
    samples its own rows; a key it shares with a kept row fails usage_events.fail, a hash it
    shares with one does not. Without that trust the frame reads every row, as a period does."""
    used = "where reject_reason is null and not is_duplicate"
    with _scratch(sample, tmp_path) as con:
        con.execute("drop view kept_usage_events")
        con.execute("create table kept_usage_events as select * from int_usage_events_verdicts where _source_line > 300")
        con.execute("delete from int_usage_events_verdicts where _source_line > 300")
        con.execute("insert into usage_event_state values ('a context', true)")
        judged = con.execute(f"select count(*) from int_usage_events_verdicts {used}").fetchone()[0]
        rows = judged + con.execute(f"select count(*) from kept_usage_events {used}").fetchone()[0]
        night = validation.extract_frame(con, "usage_events")
        night_ids = set(night["event_id"])
        judged_ids = {i for (i,) in con.execute(f"select event_id from int_usage_events_verdicts {used}").fetchall()}
        con.execute("update usage_event_state set kept_checked = false")
        untrusted = validation.extract_frame(con, "usage_events")
        con.execute("update usage_event_state set kept_checked = true")
        one_judged = f"(select min(rowid) from int_usage_events_verdicts {used})"
        kept_row = f"(select * from kept_usage_events {used} order by _source_line limit 1)"
        con.execute(f"update int_usage_events_verdicts set _key_hash = (select _key_hash from {kept_row}) "
                    f"where rowid = {one_judged}")
        shared_hash = validation.extract_frame(con, "usage_events")
        con.execute(f"update int_usage_events_verdicts set reseller_id = (select reseller_id from {kept_row}), "
                    f"event_id = (select event_id from {kept_row}) where rowid = {one_judged}")
        shared_key = validation.extract_frame(con, "usage_events")
        shared_key_report = validation.validate(con, None)
    assert 100 < judged < 5000 < rows
    assert (night["used_rows"][0], night["distinct_keys"][0]) == (rows, rows)
    assert len(night) == judged and night_ids == judged_ids
    assert (untrusted["used_rows"][0], untrusted["distinct_keys"][0]) == (rows, rows) and len(untrusted) == 5000
    assert (shared_hash["used_rows"][0], shared_hash["distinct_keys"][0]) == (rows, rows)
    assert (shared_key["used_rows"][0], shared_key["distinct_keys"][0]) == (rows, rows - 1)
    assert [(f.suite, f.column) for f in shared_key_report.failures] == [("usage_events.fail", "used_rows")]


def test_the_event_check_frame_is_the_same_whatever_order_the_events_are_stored_in(sample, tmp_path):
    """int_usage_events_verdicts is written in any row order (graph directive
    insertion_order: free): its check frame, sample included, must not depend on it."""
    with _scratch(sample, tmp_path) as con:
        before = validation.check_frames(con)["usage_events"]
        con.execute("create or replace table int_usage_events_verdicts as "
                    "select * from int_usage_events_verdicts order by hash(_source_line, 'shuffled')")
        after = validation.check_frames(con)["usage_events"]
    assert len(before) == 5000
    assert before.equals(after)


def test_only_the_validated_events_may_be_written_in_any_order():
    from transforms import graph

    assert [m.name for m in graph.models().values() if not m.keeps_insertion_order] == ["int_usage_events_verdicts"]


def test_a_failing_fail_suite_publishes_nothing(sample, tmp_path, monkeypatch):
    _, extracts, _ = sample
    wh = tmp_path / "wh"
    bill(extracts, wh, "2026-08")
    before = {p: p.read_bytes() for p in wh.rglob("*") if p.is_file()}
    frames = validation.computed_frames

    def corrupted(con):
        for table, frame in frames(con):
            if table == "charges":
                frame.loc[:, "amount"] = 0
            yield table, frame

    monkeypatch.setattr(validation, "computed_frames", corrupted)
    with pytest.raises(validation.ValidationFailed, match="charges.fail"):
        pipeline.run_period(extracts, wh, "2026-09", date(2026, 9, 30), datetime(2026, 10, 1))
    assert {p: p.read_bytes() for p in wh.rglob("*") if p.is_file()} == before


@pytest.mark.parametrize("partition_count", [1, 2])
def test_great_expectations_is_imported_once_the_event_scale_models_are_built(tmp_path, monkeypatch,
                                                                               partition_count):
    """Its import holds ~180 MiB for the rest of the process: started with the build, it added
    that to the build's peak, which the event-scale models set. A partitioned build starts it
    once the partitions are merged."""
    extracts = write_sample(tmp_path / "ex", n_clients=6, n_events=60, usage_months=("2026-09-01", "2026-10-01"))
    events = []
    build_model = models.build_model
    monkeypatch.setattr(models, "build_model", lambda con, name, **kw: (events.append(name), build_model(con, name, **kw)))
    monkeypatch.setattr(validation, "start_loading", lambda: events.append("import GX"))
    pipeline.run_period(extracts, tmp_path / "wh", "2026-10", date(2026, 10, 31), datetime(2026, 11, 1),
                        partition_count=partition_count)
    assert events.count("import GX") == 1
    at = events.index("import GX")
    if partition_count == 1:
        assert events[at - 1] == "int_cycle_lines_priced" == validation.LOAD_AFTER
        assert "int_usage_rolled_up_to_cycles" in events[:at] and "invoice_lines" in events[at:]
    else:
        assert events.count("int_cycle_lines_priced") == 2 and "rejects" in events[:at]
        assert not {"int_cycle_lines_priced", "invoice_lines"} & set(events[at:])


def test_a_helper_process_judges_the_frames_and_writes_the_data_docs_while_the_run_goes_on(sample, tmp_path,
                                                                                          monkeypatch, caplog):
    """transforms/validation_helper.py: the frames computed here, the same verdicts reached
    there; the Data Docs written there, waited for here, and a failure to write them is a
    warning logged here, as in one process."""
    from transforms import validation_helper

    helper = validation_helper.Helper()
    with _scratch(sample, tmp_path) as con:
        con.execute(CORRUPTIONS["charges.fail"])
        here = validation.validate(con, None)
        monkeypatch.setattr(validation_helper, "_running", helper)
        monkeypatch.setattr(validation, "judge", lambda *args: pytest.fail("judged in the command's process"))
        threads = threading.active_count()
        validation.start_loading()  # the helper imports GX: nothing to load here
        assert threading.active_count() == threads
        there = validation.validate(con, tmp_path / "docs" / "run-1")
        validation.docs_written(tmp_path / "docs")
        assert not validation._docs_writers and not helper.busy.locked()
        (tmp_path / "file").write_text("not a folder")
        also = validation.validate(con, tmp_path / "file" / "run-2")
        validation.docs_written(tmp_path / "file")
    assert "charges.fail" in {f.suite for f in here.failures}
    assert there == also == here and there.summary == here.summary
    run = tmp_path / "docs" / "run-1"
    assert (run / "index.html").is_file() and len(list((run / "validations").rglob("*.html"))) == 20
    assert (run / "expectations" / validation.SUITES_DIGEST).read_text() == validation.suites_digest()
    (warning,) = [r for r in caplog.records if r.name == "transforms.validation"]
    assert warning.levelname == "WARNING" and warning.getMessage().startswith(
        f"Data Docs not written to {tmp_path / 'file' / 'run-2'}: ")
    helper.stop()
    assert helper.process.wait(timeout=30) != 0 and validation_helper.running() is None


def test_a_helper_that_ended_leaves_the_command_to_validate_in_its_own_process(sample, tmp_path, monkeypatch):
    """The helper ends when its stdin closes (the command ended, or was killed); a command
    whose helper is gone validates itself, with the same verdicts."""
    from transforms import validation_helper

    helper = validation_helper.Helper()
    helper.process.stdin.close()
    assert helper.process.wait(timeout=60) == 0
    monkeypatch.setattr(validation_helper, "_running", helper)
    with _scratch(sample, tmp_path) as con:
        con.execute(CORRUPTIONS["invoices.fail"])
        report = validation.validate(con, None)
    assert "invoices.fail" in {f.suite for f in report.failures} and report.suites == 39
    assert validation_helper.running() is None and not helper.busy.locked()


def test_the_findings_come_in_the_order_of_the_suites_whatever_the_order_of_the_frames(sample, tmp_path):
    """A helper judges the frames as they come (see the next tests); the report lists the
    findings suite by suite, by name, whatever the order; a suite without its frame is an error."""
    with _scratch(sample, tmp_path) as con:
        for suite in ("invoices.fail", "clients.fail", "charges.fail"):
            con.execute(CORRUPTIONS[suite])
        frames = list(validation.computed_frames(con))
    in_order, _ = validation.judge(frames, None)
    reversed_order, _ = validation.judge(reversed(frames), None)
    assert reversed_order == in_order and in_order.suites == 39
    assert list(dict.fromkeys(f.suite for f in in_order.failures)) == ["charges.fail", "clients.fail",
                                                                        "invoices.fail"]
    with pytest.raises(ValueError, match="no check frame for the suites of charges, pricing$"):
        validation.judge([(t, f) for t, f in frames if t not in ("pricing", "charges")], None)


@pytest.fixture
def helper_running(monkeypatch):
    """A helper process as the command's, ended after the test however it ends."""
    from transforms import validation_helper

    helper = validation_helper.Helper()
    monkeypatch.setattr(validation_helper, "_running", helper)
    yield validation_helper, helper
    helper.stop()


def test_a_helper_that_stops_while_the_frames_are_sent_leaves_the_rest_to_the_command(sample, tmp_path,
                                                                                      monkeypatch, helper_running):
    """The frames go to the helper one by one as they are computed; when it is gone half-way,
    the command computes the rest and judges them all itself, with the same verdicts."""
    validation_helper, helper = helper_running
    computed, given = validation.computed_frames, []

    def helper_killed_after_three(con):
        for table, frame in computed(con):
            if len(given) == 3:
                helper.process.kill()
                helper.process.wait()
            given.append(table)
            yield table, frame

    with _scratch(sample, tmp_path) as con:
        con.execute(CORRUPTIONS["charges.fail"])
        monkeypatch.setattr(validation, "computed_frames", helper_killed_after_three)
        report = validation.validate(con, None)
        monkeypatch.setattr(validation_helper, "_running", None)
        monkeypatch.setattr(validation, "computed_frames", computed)
        here = validation.validate(con, None)
    assert len(given) == len(set(given)) == 20  # every frame computed once
    assert report == here and [f.suite for f in report.failures] == ["charges.fail"]
    assert validation_helper.running() is None and not helper.busy.locked()


def test_an_error_computing_a_frame_is_the_commands_and_ends_its_helper(sample, tmp_path, monkeypatch,
                                                                        helper_running):
    validation_helper, helper = helper_running
    computed = validation.computed_frames

    def failing_after_two(con):
        for count, table_and_frame in enumerate(computed(con)):
            if count == 2:
                raise RuntimeError("the third frame's query failed")
            yield table_and_frame

    monkeypatch.setattr(validation, "computed_frames", failing_after_two)
    with _scratch(sample, tmp_path) as con, pytest.raises(RuntimeError, match="third frame"):
        validation.validate(con, None)
    assert helper.process.wait(timeout=30) != 0  # killed: it held half a request
    assert validation_helper.running() is None and not helper.busy.locked()


def test_a_frame_gx_cannot_judge_is_reported_from_the_command_and_the_helper_serves_the_next_run(
        sample, tmp_path, monkeypatch, helper_running):
    """GX failing in the helper half-way: the helper reads the rest of the request before it
    replies (else the command, still sending, would wait forever), the command judges the
    frames itself, where the same error is the run's, and the helper serves the next request."""
    validation_helper, helper = helper_running
    computed = validation.computed_frames

    def one_frame_broken(con):
        for table, frame in computed(con):
            yield table, ("not a frame" if table == "clients" else frame)

    with _scratch(sample, tmp_path) as con:
        monkeypatch.setattr(validation, "computed_frames", one_frame_broken)
        judged_here = []
        judge = validation.judge
        monkeypatch.setattr(validation, "judge", lambda *args: (judged_here.append(True), judge(*args))[1])
        with pytest.raises(Exception, match="without a dataframe"):  # GX's BuildBatchRequestError
            validation.validate(con, None)
        assert judged_here == [True]  # after the helper's error reply, once
        assert validation_helper.running() is helper and not helper.busy.locked()
        monkeypatch.setattr(validation, "computed_frames", computed)
        monkeypatch.setattr(validation, "judge", lambda *args: pytest.fail("judged in the command's process"))
        con.execute(CORRUPTIONS["charges.fail"])
        report = validation.validate(con, None)
    assert [f.suite for f in report.failures] == ["charges.fail"]
