"""Invoice documents for `manual` clients (billing-rules.md section 9): one HTML file per
invoice revision, to send by hand, with its lines, the price source of each, the totals,
the due date and the client's ledger balance. Written under the warehouse's documents/
folder; an existing document is never rewritten (a correction is its own revision)."""

import html
import os
from pathlib import Path

from transforms.reports import read_only
from transforms.warehouse import VIEW_DB

STYLE = (
    "body{font-family:sans-serif;margin:2em;color:#222}table{border-collapse:collapse;width:100%}"
    "td,th{border-bottom:1px solid #ddd;padding:6px;text-align:left}td.n,th.n{text-align:right}"
    ".src{color:#666;font-size:85%}"
)


def write_documents(warehouse_dir: Path) -> list[Path]:
    """Write the missing documents of manual clients' invoices; return the new files."""
    if not (warehouse_dir / VIEW_DB).exists():
        return []
    con = read_only(warehouse_dir)
    try:
        manual = con.execute("""
            with manual_clients as (
                select reseller_id, client_id from account_status
                group by all having arg_max(processor, as_of) = 'manual'
            )
            select i.reseller_id, i.client_id, i.invoice_id, i.revision, i.kind, i.invoice_date, i.issued_on,
                   i.due_date, i.currency, i.subtotal, i.credits, i.total
            from invoices i
            semi join manual_clients using (reseller_id, client_id)
            order by i.reseller_id, i.invoice_id, i.revision""").fetchall()
        written = []
        for (reseller_id, client_id, invoice_id, revision, kind, invoice_date, issued_on, due_date, currency,
             subtotal, credits, total) in manual:
            target = warehouse_dir / "documents" / f"reseller_id={reseller_id}" / f"{invoice_id}-r{revision}.html"
            if target.exists():
                continue
            lines = con.execute(
                "select item_code, line_type, description, quantity, unit_price, amount, price_source "
                "from invoice_lines where invoice_id = $id and revision = $rev order by line_no",
                {"id": invoice_id, "rev": revision}).fetchall()
            balance = con.execute(
                "select coalesce(sum(amount), 0) from ledger where reseller_id = $r and client_id = $c",
                {"r": reseller_id, "c": client_id}).fetchone()[0]
            rows = "".join(
                f"<tr><td>{html.escape(item)}<div class=src>{html.escape(line_type)}; "
                f"{html.escape(source or '')}</div></td><td>{html.escape(description or '')}</td>"
                f"<td class=n>{quantity.normalize():f}</td><td class=n>{unit_price.normalize():f}</td>"
                f"<td class=n>{amount}</td></tr>"
                for item, line_type, description, quantity, unit_price, amount, source in lines
            )
            title = f"Invoice {invoice_id}" + (f" revision {revision} ({kind})" if revision > 1 else "")
            page = (
                f"<!doctype html><html><head><meta charset=utf-8><title>{html.escape(title)}</title>"
                f"<style>{STYLE}</style></head><body><h1>{html.escape(title)}</h1>"
                f"<p>Client {html.escape(client_id)} of {html.escape(reseller_id)}<br>"
                f"Invoice date {invoice_date} · issued {issued_on} · <b>due {due_date}</b></p>"
                "<table><tr><th>Item</th><th>Description</th><th class=n>Quantity</th>"
                f"<th class=n>Unit price</th><th class=n>Amount ({html.escape(currency)})</th></tr>{rows}</table>"
                f"<p>Subtotal {subtotal} · credits {credits} · <b>total {total} {html.escape(currency)}</b></p>"
                f"<p>Balance on your account: {balance} {html.escape(currency)}</p></body></html>\n"
            )
            target.parent.mkdir(parents=True, exist_ok=True)
            temp = target.with_suffix(".tmp")
            temp.write_text(page)
            os.replace(temp, target)
            written.append(target)
        return written
    finally:
        con.close()
