"""Invoice documents (billing-rules.md section 9): one per invoice revision, HTML from a
Jinja2 template (autoescaped: ids and descriptions are data) and, on demand, PDF. Written
under `<warehouse>/documents/reseller_id=<id>/period=<P>/<invoice_id>-r<revision>.<ext>`.
The content is a function of the published invoice alone (no clock, no balance that moves),
so writing a document again gives the same text; an existing document is never rewritten (a
correction is a revision of its own, whose document says what it corrects).

PDF: the HTML printed by headless Chromium (`--print-to-pdf`), the browser CI already
installs for the report test; it renders the same HTML and CSS as a browser shows, with no
extra system libraries (WeasyPrint would need Pango and friends from the OS).
"""

import shutil
import subprocess
import tempfile
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape

from transforms.reports import _query

TEMPLATES = Path(__file__).resolve().parent / "templates"
FORMATS = ("html", "pdf")


class DocumentError(ValueError):
    """A document format that cannot be produced here."""


def _environment() -> Environment:
    return Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html", "j2"]),
                       keep_trailing_newline=True)


def _number(value) -> str:
    return f"{value.normalize():f}" if value is not None else ""


def write_documents(warehouse_dir: Path, period: str | None = None, client_id: str | None = None,
                    fmt: str = "html", as_of=None) -> list[Path]:
    """Write the missing documents of the period's (or every) invoice revisions issued by
    `as_of` (default: all); return the new files."""
    if fmt not in FORMATS:
        raise DocumentError(f"--format must be html or pdf, got {fmt!r}")
    columns, invoices = _query(warehouse_dir, "invoice_documents", {"period": period, "client": client_id, "as_of": as_of})
    if not invoices:
        return []
    line_columns, all_lines = _query(
        warehouse_dir, "invoice_document_lines", {"period": period, "client": client_id, "as_of": as_of})
    lines: dict[tuple[str, int], list[dict]] = {}
    for row in all_lines:
        line = dict(zip(line_columns, row))
        lines.setdefault((line["invoice_id"], line["revision"]), []).append(line)
    template = _environment().get_template("invoice.html.j2")
    written = []
    for row in invoices:
        invoice = dict(zip(columns, row))
        folder = warehouse_dir / "documents" / f"reseller_id={invoice['reseller_id']}" / f"period={invoice['period']}"
        target = folder / f"{invoice['invoice_id']}-r{invoice['revision']}.{fmt}"
        if target.exists():
            continue
        kind = "adjustment" if invoice["revision"] > 1 else invoice["kind"]
        page = template.render(
            title=f"Invoice {invoice['invoice_id']}" + (f" revision {invoice['revision']} ({kind})"
                                                       if invoice["revision"] > 1 else f" ({kind})"),
            lines=[dict(line, quantity=_number(line["quantity"]), unit_price=_number(line["unit_price"]))
                   for line in lines.get((invoice["invoice_id"], invoice["revision"]), [])],
            **invoice,
        )
        folder.mkdir(parents=True, exist_ok=True)
        temp = target.with_name(target.name + ".tmp")
        if fmt == "html":
            temp.write_text(page)
        else:
            _print_pdf(page, temp)
        temp.replace(target)
        written.append(target)
    return written


def _print_pdf(page: str, target: Path) -> None:
    browser = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    if browser is None:
        raise DocumentError("PDF documents need Chromium (Debian: apt-get install chromium); HTML works without it")
    with tempfile.TemporaryDirectory(prefix="billing-pdf-") as scratch:
        html_file = Path(scratch) / "invoice.html"
        html_file.write_text(page)
        done = subprocess.run(
            [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
             "--disable-component-update", "--disable-sync", "--no-first-run", "--no-pdf-header-footer",
             f"--user-data-dir={Path(scratch) / 'profile'}", f"--print-to-pdf={target}", html_file.as_uri()],
            capture_output=True, text=True, timeout=120,
        )
        if done.returncode != 0 or not target.exists():
            raise DocumentError(f"Chromium could not print the PDF: {(done.stderr.strip().splitlines() or [''])[-1]}")
