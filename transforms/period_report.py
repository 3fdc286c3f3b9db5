"""`billing report`: one self-contained HTML file per period, with inline SVG bar charts
(revenue by item and by group, top clients, overage and minimum share, rejects by reason)
and the locked clients. No script or external asset: it opens anywhere, offline."""

import html
from collections import defaultdict
from pathlib import Path

from transforms.reports import _query

CHARTS = ("revenue by item", "revenue by group", "top clients", "overage and minimum share", "rejects by reason")


def _bar_chart(title: str, rows: list[tuple[str, str, float]]) -> str:
    if not rows:
        return f'<section><h2>{html.escape(title)}</h2><p>nothing this period</p></section>'
    width, bar_height, label_width = 720, 22, 260
    top = max(abs(v) for _, _, v in rows) or 1
    bars = []
    for n, (label, currency, value) in enumerate(rows):
        length = int((width - label_width - 120) * abs(value) / top)
        y = n * (bar_height + 6)
        bars.append(
            f'<text x="0" y="{y + 16}" font-size="13">{html.escape(label[:38])}</text>'
            f'<rect class="bar" x="{label_width}" y="{y}" width="{max(length, 1)}" height="{bar_height}" fill="#3b6ea5"/>'
            f'<text x="{label_width + length + 6}" y="{y + 16}" font-size="13">{value:,.2f} {html.escape(currency)}</text>'
        )
    height = len(rows) * (bar_height + 6)
    return (f'<section><h2>{html.escape(title)}</h2><svg class="chart" data-chart="{html.escape(title)}" '
            f'width="{width}" height="{height}" xmlns="http://www.w3.org/2000/svg">{"".join(bars)}</svg></section>')


def write_report(warehouse: Path, period: str, out_dir: Path) -> Path:
    _, rows = _query(warehouse, "period_report", {"period": period})
    by_chart = defaultdict(list)
    for chart, label, currency, value in rows:
        by_chart[chart].append((label, currency, float(value)))
    locked = "".join(f"<li>{html.escape(label)}: {value:,.2f} {html.escape(currency)} past due</li>"
                     for label, currency, value in by_chart["locked clients"]) or "<li>none</li>"
    page = (
        f"<!doctype html><html><head><meta charset=utf-8><title>Billing report {period}</title>"
        "<style>body{font-family:sans-serif;margin:2em}section{margin-bottom:2em}</style></head><body>"
        f"<h1>Billing report {html.escape(period)}</h1>"
        + "".join(_bar_chart(title, by_chart[title]) for title in CHARTS)
        + f"<section><h2>locked clients</h2><ul id=locked>{locked}</ul></section></body></html>\n"
    )
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / f"billing-report-{period}.html"
    target.write_text(page)
    return target
