-- invoice_preview_current (a view in billing.duckdb): each client's latest preview, i.e. the
-- lines of invoice_preview from the latest night that previewed the client (billing-rules.md
-- section 10). A preview is not an invoice: no id, no charge, no ledger entry.
with latest as (
    select reseller_id, client_id, max(as_of) as as_of from invoice_preview group by all
)

select previews.*
from invoice_preview as previews
inner join latest using (reseller_id, client_id, as_of)
