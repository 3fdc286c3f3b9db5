"""`billing report`: a self-contained HTML page for finance that renders in headless Chromium,
one chart group per currency, negative amounts drawn as negative bars, counts as integers."""

import re
import shutil
import subprocess
from datetime import date, datetime

import pytest

from transforms.period_report import SECTIONS, write_report
from transforms.pipeline import run_period
from transforms.sample_data import write_sample

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def two_currencies(tmp_path_factory):
    """The demo generator's two resellers (USD and EUR), billed for two months."""
    root = tmp_path_factory.mktemp("report")
    extracts = write_sample(root / "ex", n_clients=40, n_events=20_000)
    wh = root / "wh"
    run_period(extracts, wh, "2026-09", date(2026, 9, 30), datetime(2026, 10, 1), validate=False)
    run_period(extracts, wh, "2026-10", date(2026, 10, 31), datetime(2026, 11, 1), validate=False)
    return root, wh


def test_every_chart_is_per_currency_with_negative_bars_and_integer_counts(two_currencies):
    root, wh = two_currencies
    page = write_report(wh, "2026-10", root / "report").read_text()
    assert "<script" not in page and "http" not in page.replace("http://www.w3.org/2000/svg", "")
    groups = re.findall(r'<div class="chart-group" data-currency="([A-Z]*)"><h3>|'
                        r'<div class="chart-group" data-currency="()"><div', page)
    for section, _ in SECTIONS[:5]:
        currencies = re.findall(rf'<svg class="chart" data-chart="{section}" data-currency="([A-Z]+)"', page)
        if section != "largest past-due clients":
            assert currencies == ["EUR", "USD"], section  # one chart per currency, never one axis for both
    assert groups
    # the prepaid draw-down is a negative amount: drawn to the left of the zero line
    negatives = re.findall(r'<rect class="bar negative" data-value="(-[0-9.]+)"', page)
    assert negatives and all(float(v) < 0 for v in negatives)
    # reject counts are whole numbers in the chart and the table beside it
    rejects = page[page.index('data-chart="rejects by reason"'):]
    counts = re.findall(r'<td class=n>([0-9.,]+)</td>', rejects)
    assert counts and all("." not in c for c in counts)
    assert "Headline figures" in page and "<th class=n>past due</th>" in page


@pytest.mark.skipif(CHROMIUM is None, reason="Debian chromium is not installed (.ci/run installs it)")
def test_the_period_report_renders_in_headless_chromium(two_currencies, tmp_path):
    root, wh = two_currencies
    page = write_report(wh, "2026-10", tmp_path / "report", as_of=date(2026, 10, 31))
    rendered = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", f"--user-data-dir={tmp_path / 'profile'}",
         "--dump-dom", page.as_uri()],
        capture_output=True, text=True, timeout=120,
    )
    dom = rendered.stdout
    for section in ("revenue over 12 periods", "receivables aging", "revenue by item", "revenue by group"):
        assert dom.count(f'data-chart="{section}"') == 2, (section, rendered.stderr[-500:])
    assert dom.count('class="bar') >= 20
    assert 'id="headline"' in dom
