"""`billing report`: one self-contained HTML page per period for a finance reader.

Headline figures per reseller and currency, revenue over the last 12 periods, receivables
aging with the largest past-due clients, revenue by item and by group, rejects by reason.
The figures come from the warehouse views (`revenue_by_period`, `ar_aging`, ...) through
sql/reports, so an analyst can query the same numbers. Every chart is drawn per currency
(never one axis across currencies), from a zero line (negative amounts are bars to its
left), with counts as whole numbers and a plain table beside it. Inline SVG, no script and no
external asset: the page opens anywhere, offline.
"""

import html
from collections import defaultdict
from datetime import date
from decimal import Decimal
from pathlib import Path

from transforms.reports import _query

SECTIONS = (
    ("revenue over 12 periods", "Revenue over the last 12 periods (billed less credited)"),
    ("receivables aging", "Receivables aging (unpaid, by days past due)"),
    ("largest past-due clients", "Largest past-due clients"),
    ("revenue by item", "Revenue by item"),
    ("revenue by group", "Revenue by group"),
    ("rejects by reason", "Rejected input rows by reason"),
)
HEADLINE = (
    ("billed", "billed"), ("credited", "credited"), ("collected", "collected"), ("outstanding", "outstanding"),
    ("past_due", "past due"), ("invoices", "invoices"), ("active_clients", "active"), ("trial_clients", "trial"),
    ("locked_clients", "locked"), ("cancelled_clients", "cancelled"), ("rejects", "rejects"),
)
STYLE = (
    "body{font-family:sans-serif;margin:2em;color:#222}section{margin-bottom:2.5em}"
    ".group{display:flex;gap:2em;align-items:flex-start;margin:1em 0}"
    "table{border-collapse:collapse}td,th{border-bottom:1px solid #ddd;padding:4px 8px;text-align:left}"
    "td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}"
    ".bar{fill:#3b6ea5}.bar.negative{fill:#c0504d}.axis{stroke:#888}"
)


def _number(value: Decimal, is_count: bool) -> str:
    return f"{int(value):,}" if is_count else f"{value:,.2f}"


def _bar_chart(section: str, currency: str, rows: list[tuple[str, Decimal, bool]]) -> str:
    """Horizontal bars from a zero line; negative values extend to its left."""
    width, bar_height, label_width, value_width = 640, 20, 230, 110
    plot = width - label_width - 2 * value_width
    most_positive = max([v for _, v, _ in rows if v > 0], default=Decimal(0))
    most_negative = max([-v for _, v, _ in rows if v < 0], default=Decimal(0))
    span = (most_positive + most_negative) or Decimal(1)
    zero = label_width + value_width + plot * float(most_negative / span)
    parts = []
    for n, (label, value, is_count) in enumerate(rows):
        y = n * (bar_height + 6)
        length = plot * float(abs(value) / span)
        x = zero - length if value < 0 else zero
        text_x = x - 6 if value < 0 else zero + length + 6
        anchor = "end" if value < 0 else "start"
        parts.append(
            f'<text x="0" y="{y + 15}" font-size="12">{html.escape(label[:36])}</text>'
            f'<rect class="bar{" negative" if value < 0 else ""}" data-value="{value}" x="{x:.1f}" y="{y}" '
            f'width="{max(length, 1):.1f}" height="{bar_height}"/>'
            f'<text x="{text_x:.1f}" y="{y + 15}" font-size="12" text-anchor="{anchor}">'
            f'{_number(value, is_count)}</text>'
        )
    height = len(rows) * (bar_height + 6)
    parts.append(f'<line class="axis" x1="{zero:.1f}" y1="0" x2="{zero:.1f}" y2="{height}"/>')
    return (f'<svg class="chart" data-chart="{html.escape(section)}" data-currency="{html.escape(currency)}" '
            f'width="{width}" height="{height}" xmlns="http://www.w3.org/2000/svg" role="img" '
            f'aria-label="{html.escape(section)} {html.escape(currency)}">{"".join(parts)}</svg>')


def _table(headers: list[str], rows: list[list[str]], numeric_from: int = 1) -> str:
    head = "".join(f'<th{" class=n" if i >= numeric_from else ""}>{html.escape(h)}</th>' for i, h in enumerate(headers))
    body = "".join(
        "<tr>" + "".join(f'<td{" class=n" if i >= numeric_from else ""}>{html.escape(c)}</td>' for i, c in enumerate(row))
        + "</tr>"
        for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _section(section: str, title: str, by_currency: dict[str, list[tuple[str, Decimal, bool]]]) -> str:
    if not by_currency:
        return f"<section><h2>{html.escape(title)}</h2><p>nothing this period</p></section>"
    groups = []
    for currency, rows in sorted(by_currency.items()):
        unit = "rows" if rows[0][2] else currency
        table = _table(["", unit], [[label, _number(value, is_count)] for label, value, is_count in rows])
        caption = f"<h3>{html.escape(currency)}</h3>" if currency else ""
        groups.append(f'<div class="chart-group" data-currency="{html.escape(currency)}">{caption}'
                      f'<div class="group">{_bar_chart(section, currency, rows)}{table}</div></div>')
    return f"<section><h2>{html.escape(title)}</h2>{''.join(groups)}</section>"


def write_report(warehouse: Path, period: str, out_dir: Path, as_of: date | None = None) -> Path:
    """Write `billing-report-<period>.html` into out_dir; as_of (default: the period's last
    day) picks the day of the account status and aging shown."""
    from transforms.pipeline import period_bounds

    as_of = as_of or date.fromordinal(period_bounds(period)[1].toordinal() - 1)
    params = {"period": period, "as_of": as_of}
    columns, headline = _query(warehouse, "report_headline", params)
    _, rows = _query(warehouse, "period_report", params)
    sections: dict[str, dict[str, list]] = defaultdict(lambda: defaultdict(list))
    for section, currency, label, value, is_count, _sort in rows:
        sections[section][currency].append((label, value, is_count))

    status_day = headline[0][columns.index("status_day")] if headline else None
    figures = _table(
        ["reseller", "currency"] + [title for _, title in HEADLINE],
        [[row[0], row[1]] + [_number(row[columns.index(name)], name.endswith(("invoices", "_clients", "rejects")))
                             for name, _ in HEADLINE] for row in headline],
        numeric_from=2,
    )
    page = (
        f"<!doctype html><html lang=en><head><meta charset=utf-8><title>Billing report {html.escape(period)}</title>"
        f"<style>{STYLE}</style></head><body>"
        f"<h1>Billing report {html.escape(period)}</h1>"
        f"<p>Account status and aging as of {html.escape(str(status_day or as_of))}.</p>"
        f'<section><h2>Headline figures</h2><div id="headline">{figures}</div></section>'
        + "".join(_section(section, title, sections.get(section, {})) for section, title in SECTIONS)
        + "</body></html>\n"
    )
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / f"billing-report-{period}.html"
    target.write_text(page)
    return target
