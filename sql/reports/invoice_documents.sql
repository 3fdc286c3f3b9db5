-- invoice_documents (`billing documents`, the charge batch): one row per invoice revision of
-- the period (every period when $period is null), optionally of one client, with what its
-- document shows besides its lines: the client and reseller names, and for an adjustment
-- the invoice's total before it and after it (billing-rules.md sections 8, 9). With $as_of,
-- only the revisions issued by then (a past day replayed).
with revisions as (
    select
        invoices.*,
        sum(invoices.total) over (partition by invoices.invoice_id order by invoices.revision) as current_total,
    from invoices
)

select
    revisions.reseller_id,
    revisions.client_id,
    revisions.period,
    revisions.invoice_id,
    revisions.revision,
    revisions.kind,
    revisions.invoice_date,
    revisions.issued_on,
    revisions.due_date,
    revisions.currency,
    revisions.subtotal,
    revisions.credits,
    revisions.total,
    revisions.current_total - revisions.total as previous_total,
    revisions.current_total,
from revisions
where ($period is null or revisions.period = $period)
    and ($client is null or revisions.client_id = $client)
    and ($as_of is null or revisions.issued_on <= $as_of)
order by revisions.reseller_id, revisions.period, revisions.invoice_id, revisions.revision
