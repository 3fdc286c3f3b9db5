"""`billing report`: a self-contained HTML page whose charts render in headless Chromium."""

import shutil
import subprocess
from datetime import date, datetime

import pytest

from transforms.period_report import CHARTS, write_report
from transforms.pipeline import run_period
from transforms.sample_data import write_sample

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.skipif(CHROMIUM is None, reason="Debian chromium is not installed (.ci/run installs it)")
def test_the_period_report_renders_its_charts_in_headless_chromium(tmp_path):
    extracts = write_sample(tmp_path / "ex", n_clients=40, n_events=20_000)
    wh = tmp_path / "wh"
    run_period(extracts, wh, "2026-09", date(2026, 9, 30), datetime(2026, 10, 1), validate=False)
    page = write_report(wh, "2026-09", tmp_path / "report")
    assert "<script" not in page.read_text() and "http" not in page.read_text().replace(
        "http://www.w3.org/2000/svg", "")  # self-contained
    rendered = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", f"--user-data-dir={tmp_path / 'profile'}",
         "--dump-dom", page.as_uri()],
        capture_output=True, text=True, timeout=120,
    )
    dom = rendered.stdout
    assert dom.count('<svg class="chart"') == len(CHARTS) - (0 if "rejects by reason" in dom else 1), rendered.stderr
    for chart in ("revenue by item", "revenue by group", "top clients", "overage and minimum share"):
        assert f'data-chart="{chart}"' in dom, chart
    assert dom.count('class="bar"') >= 20
    assert '<ul id="locked">' in dom
