"""ACH after the file is written (billing-rules.md section 9, "Outcomes that come later" and
"ACH returns"; examples.md E11). Return files are built with achkit's generator (the parser
under test is transforms/ach_returns.py's structure check plus its reading of the type 99
addenda): achkit writes the structure (counts, hashes, blocks), the test turns its entries
into returns (transaction code 26) and its addenda into type 99 return addenda."""

import os
import shutil
from datetime import date, datetime
from pathlib import Path

import achkit
import pytest
from helpers import R1, D, client, price, query, write_extracts
from test_cli import _billing

from transforms import ach_returns, charging
from transforms.pipeline import run_night

ACH_ENV = {"ACH_ORIGIN_ROUTING": "091000019", "ACH_COMPANY_ID": "1234567890", "ACH_COMPANY_NAME": "Acme CRM Partners"}
BANK = "091000019"  # the bank that sends the returns; its 8-digit prefix 0910 0001 starts their trace numbers


def return_file(folder: Path, created: date, returns: list[tuple[str, int, str, str]], name: str = "") -> Path:
    """A NACHA return file: per return (account, cents, code, original trace), an entry and
    its type 99 addenda: code, original trace, date of death, original RDFI, information, and
    the return's own trace number in positions 80-94."""
    ach = achkit.AchFile.create(BANK, "1234567890", "091000019", "ACME CRM PARTNERS", "RECEIVING BANK",
                                creation_date=datetime.combine(created, datetime.min.time()))
    batch = ach.batch("PPD", "BILLING", created.isoformat(), company_name="ACME CRM PARTNERS")
    for account, cents, code, original in returns:
        info = code + original + " " * 6 + "02100002" + " " * 44 + BANK[:4]
        batch.debit("C7", "021000021", account, cents, addenda=info)
    lines = ach.render().splitlines()
    patched = []
    for line in lines:
        if line.startswith("627"):
            line = "626" + line[3:]  # automated return of a checking debit
        elif line.startswith("705"):
            line = "799" + line[3:]  # return addenda
        patched.append(line)
    target = folder / (name or f"returns-{created:%Y%m%d}.ach")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text("\n".join(patched) + "\n")
    return target


def _e11(folder: Path) -> Path:
    return write_extracts(folder, {
        "resellers": [R1],
        "clients": [client("C7", start="2026-10-01", bill_day=5, processor="ach",
                           processor_customer_ref="021000021-12345678")],
        "pricing": [price("account", cycle_fee="30.00", lockout_when_owing=True)],
    })


def _charge(wh: Path) -> tuple:
    return query(wh, "select status, attempts, processor_reference, status_reason from charges")[0]


def _ledger(wh: Path) -> list[tuple]:
    return query(wh, "select entry_type, amount, cast(entry_at as date)::varchar, balance_after from ledger "
                     "order by entry_at, entry_id")


def _status(wh: Path, day: str) -> tuple:
    return query(wh, "select status, balance_owed, past_due from account_status where as_of = $d::date",
                 {"d": day})[0]


def test_e11_return_and_re_presentment_day_by_day_on_the_command_line(tmp_path):
    ex, wh = _e11(tmp_path / "ex"), tmp_path / "wh"

    def billing(*args: str):
        done = _billing(*args, home=tmp_path, **ACH_ENV)
        assert done.returncode == 0, (args, done.stderr)
        return done

    billing("nightly", "--extracts", str(ex), "--warehouse", str(wh), "--date", "2026-10-05")
    status, attempts, trace, _ = _charge(wh)
    assert (status, attempts) == ("submitted", 1) and len(trace) == 15 and trace.startswith("09100001")
    (ach_file,) = (wh / "ach").glob("*.ach")
    assert trace in ach_file.read_text() and achkit.validate(ach_file.read_text())["ok"]
    assert _ledger(wh) == [("invoice", D("30.00"), "2026-10-05", D("30.00")),
                           ("charge_payment", D("-30.00"), "2026-10-05", D("0.00"))]
    assert _status(wh, "2026-10-05") == ("active", D("0.00"), D("0.00"))  # after the night's batch

    returns = return_file(tmp_path, date(2026, 10, 7), [("12345678", 3000, "R01", trace)])
    done = billing("charges", "returns", "--warehouse", str(wh), "--file", str(returns), "--as-of", "2026-10-07")
    assert "1 applied, 0 already recorded, 0 rejected" in done.stdout
    assert _charge(wh)[0] == "returned" and _charge(wh)[3].startswith("R01 Insufficient funds")
    assert _ledger(wh)[-1] == ("payment_reversal", D("30.00"), "2026-10-07", D("30.00"))

    billing("nightly", "--extracts", str(ex), "--warehouse", str(wh), "--date", "2026-10-07")
    assert _status(wh, "2026-10-07") == ("locked", D("30.00"), D("30.00"))
    assert _charge(wh)[0] == "returned"  # presented again one day after the return, not before

    billing("nightly", "--extracts", str(ex), "--warehouse", str(wh), "--date", "2026-10-08")
    status, attempts, second_trace, _ = _charge(wh)
    assert (status, attempts) == ("submitted", 2) and second_trace != trace
    assert _ledger(wh)[-1] == ("charge_payment", D("-30.00"), "2026-10-08", D("0.00"))
    assert _status(wh, "2026-10-08") == ("active", D("0.00"), D("0.00"))

    billing("charges", "submit", "--warehouse", str(wh), "--as-of", "2026-10-15")
    assert _charge(wh)[0] == "submitted"  # 10-09, 10-13, 10-14, 10-15: four banking days (10-12 is a holiday)
    billing("charges", "submit", "--warehouse", str(wh), "--as-of", "2026-10-16")
    assert _charge(wh)[0] == "succeeded"
    assert query(wh, "select cast(attempted_at as date)::varchar from charge_attempts where outcome = 'succeeded'") \
        == [("2026-10-16",)]

    before = _ledger(wh)
    done = billing("charges", "returns", "--warehouse", str(wh), "--file", str(returns), "--as-of", "2026-10-17")
    assert "0 applied, 1 already recorded, 0 rejected" in done.stdout
    assert _ledger(wh) == before and _charge(wh)[0] == "succeeded"


@pytest.fixture
def submitted(tmp_path, monkeypatch):
    """E11 billed and its debit submitted on 10-05 (plain functions, no Prefect)."""
    for key, value in ACH_ENV.items():
        monkeypatch.setenv(key, value)
    ex, wh = _e11(tmp_path / "ex"), tmp_path / "wh"
    run_night(ex, wh, date(2026, 10, 5), datetime(2026, 10, 6, 2), validate=False)
    charging.submit(wh, date(2026, 10, 5), datetime(2026, 10, 5, 23, 0))
    return ex, wh, _charge(wh)[2]


def test_a_final_return_code_is_not_presented_again_and_asks_for_new_bank_details(submitted, tmp_path):
    ex, wh, trace = submitted
    returns = return_file(tmp_path, date(2026, 10, 7), [("12345678", 3000, "R03", trace)])
    ach_returns.import_file(wh, returns, date(2026, 10, 7), datetime(2026, 10, 7, 9))
    for day in (8, 10, 20):
        charging.submit(wh, date(2026, 10, day), datetime(2026, 10, day, 23, 0))
    assert _charge(wh)[:2] == ("returned", 1)
    run_night(ex, wh, date(2026, 10, 20), datetime(2026, 10, 21, 2), validate=False)
    status, reason = query(wh, "select status, reason from account_status where as_of = '2026-10-20'")[0]
    assert status == "locked" and "R03" in reason and "new bank details" in reason


def test_r01_is_presented_again_at_most_twice(submitted, tmp_path):
    ex, wh, trace = submitted
    traces = [trace]
    for n, (returned_on, presented_on) in enumerate(((7, 8), (9, 12)), start=1):
        f = return_file(tmp_path, date(2026, 10, returned_on), [("12345678", 3000, "R01", traces[-1])], f"r{n}.ach")
        ach_returns.import_file(wh, f, date(2026, 10, returned_on), datetime(2026, 10, returned_on, 9))
        charging.submit(wh, date(2026, 10, presented_on - 1), datetime(2026, 10, presented_on - 1, 23))
        assert _charge(wh)[:2] == ("returned", n)  # not yet: 1 day after the 1st return, 3 after the 2nd
        charging.submit(wh, date(2026, 10, presented_on), datetime(2026, 10, presented_on, 23))
        assert _charge(wh)[:2] == ("submitted", n + 1)
        traces.append(_charge(wh)[2])
    f = return_file(tmp_path, date(2026, 10, 14), [("12345678", 3000, "R01", traces[-1])], "r3.ach")
    ach_returns.import_file(wh, f, date(2026, 10, 14), datetime(2026, 10, 14, 9))
    for day in (15, 17, 25):
        charging.submit(wh, date(2026, 10, day), datetime(2026, 10, day, 23))
    assert _charge(wh)[:2] == ("returned", 3) and len(set(traces)) == 3
    assert query(wh, "select entry_type, count(*), sum(amount) from ledger where entry_type <> 'invoice' "
                     "group by all order by 1") == [("charge_payment", 3, D("-90.00")),
                                                    ("payment_reversal", 3, D("90.00"))]


def test_a_return_after_success_still_reverses(submitted, tmp_path):
    ex, wh, trace = submitted
    charging.submit(wh, date(2026, 10, 13), datetime(2026, 10, 13, 23))
    assert _charge(wh)[0] == "succeeded"  # 10-06, 10-07, 10-08, 10-09, 10-13 (10-12 Columbus Day)
    late = return_file(tmp_path, date(2026, 11, 4), [("12345678", 3000, "R10", trace)])
    result = ach_returns.import_file(wh, late, date(2026, 11, 4), datetime(2026, 11, 4, 9))
    assert [code for _, _, code in result.applied] == ["R10"]
    assert _charge(wh)[0] == "returned"
    assert _ledger(wh)[-1] == ("payment_reversal", D("30.00"), "2026-11-04", D("30.00"))


def test_unmatched_and_malformed_returns_change_nothing(submitted, tmp_path):
    ex, wh, trace = submitted
    before = _ledger(wh)
    unmatched = return_file(tmp_path, date(2026, 10, 7), [("12345678", 3000, "R01", "091000010000000"),
                                                          ("12345678", 3000, "R99", trace)])
    result = ach_returns.import_file(wh, unmatched, date(2026, 10, 7), datetime(2026, 10, 7, 9))
    assert result.applied == [] and result.rejected == [
        (3, "original trace number 091000010000000 matches no submitted debit"),
        (5, "unknown return reason code 'R99'"),
    ]
    assert _ledger(wh) == before and _charge(wh)[0] == "submitted"

    good = return_file(tmp_path, date(2026, 10, 7), [("12345678", 3000, "R01", trace)], "broken.ach")
    lines = good.read_text().splitlines()
    lines[4] = lines[4][:10] + "0000000001" + lines[4][20:]  # the batch control's entry hash
    good.write_text("\n".join(lines) + "\n")
    with pytest.raises(ach_returns.ReturnFileRejected, match="line 5: batch control entry hash"):
        ach_returns.import_file(wh, good, date(2026, 10, 7), datetime(2026, 10, 7, 9))
    assert _ledger(wh) == before and _charge(wh)[0] == "submitted"


def test_the_charge_batch_imports_files_dropped_into_ach_returns(submitted, tmp_path):
    ex, wh, trace = submitted
    return_file(wh / "ach" / "returns", date(2026, 10, 7), [("12345678", 3000, "R01", trace)])
    charging.submit(wh, date(2026, 10, 7), datetime(2026, 10, 7, 23))
    assert _charge(wh)[0] == "returned"
    charging.submit(wh, date(2026, 10, 7), datetime(2026, 10, 7, 23, 30))  # the same file is not imported twice
    assert query(wh, "select count(*) from ledger where entry_type = 'payment_reversal'") == [(1,)]
    assert os.path.exists(next((wh / "ach_returns").glob("*.parquet")))


# --- invoice documents for every invoice revision --------------------------------------------

def test_every_invoice_revision_has_a_document_and_an_adjustment_says_what_it_corrects(tmp_path):
    from helpers import bill, usage

    from transforms import documents

    tables = {
        "resellers": [R1], "clients": [client("C1", processor="stripe", processor_customer_ref="cus_1"),
                                       client("C2<b>")],
        "pricing": [price("emails", cycle_fee="20.00", included_units=10000, metered=False, overage_fee="0.0015")],
        "usage_events": [usage("e1", "C1", "emails", "2026-09-14T08:00:00Z", 12500)],
    }
    ex = write_extracts(tmp_path / "ex", tables)
    wh = tmp_path / "wh"
    bill(ex, wh, "2026-10", as_of=date(2026, 10, 2))
    write_extracts(ex, {"usage_events": [usage("e2", "C1", "emails", "2026-09-15T08:00:00Z", 1000)]}, "late.csv")
    bill(ex, wh, "2026-10", as_of=date(2026, 10, 20), second=1)
    written = documents.write_documents(wh, "2026-10")
    assert sorted(p.name.split("-r")[1] for p in written) == ["1.html", "1.html", "2.html"]
    adjustment = next(p for p in written if p.name.endswith("-r2.html")).read_text()
    assert "an adjustment\nthat corrects it by 1.50 USD" in adjustment
    assert "stood at 23.75 USD" in adjustment and "stands at 25.25 USD" in adjustment
    escaped = next(p for p in written if "C2&lt;b&gt;" in p.read_text())
    assert "C2<b>" not in escaped.read_text()  # data, autoescaped
    again = {p: p.read_text() for p in written}
    for p in written:
        p.unlink()
    documents.write_documents(wh, "2026-10")
    assert {p: p.read_text() for p in written} == again  # deterministic content
    assert documents.write_documents(wh, "2026-10") == []  # never rewritten


@pytest.mark.skipif(not (shutil.which("chromium") or shutil.which("chromium-browser")),
                    reason="Debian chromium is not installed (.ci/run installs it)")
def test_the_pdf_of_an_e1_invoice_shows_its_lines_and_total(tmp_path):
    from helpers import usage
    from pypdf import PdfReader

    ex = write_extracts(tmp_path / "ex", {
        "resellers": [R1], "clients": [client("C1")],
        "pricing": [price("emails", cycle_fee="20.00", included_units=10000, metered=False, overage_fee="0.0015")],
        "usage_events": [usage("e1", "C1", "emails", "2026-09-14T08:00:00Z", 12500)],
    })
    wh = tmp_path / "wh"
    from helpers import bill

    bill(ex, wh, "2026-10")
    done = _billing("documents", "--warehouse", str(wh), "--period", "2026-10", "--format", "pdf", home=tmp_path)
    assert done.returncode == 0, done.stderr
    (pdf,) = (wh / "documents").rglob("*.pdf")
    text = " ".join(page.extract_text() for page in PdfReader(pdf).pages)
    for expected in ("cycle_fee", "20.00", "overage", "2500", "3.75", "23.75 USD"):
        assert expected in text, (expected, text)
