-- invoice_document_lines (`billing documents`): the lines of every invoice revision whose
-- document is written, in line order (an adjustment's lines are the changes it makes).
select
    lines.invoice_id,
    lines.revision,
    lines.line_no,
    lines.item_code,
    lines.line_type,
    lines.description,
    lines.price_source,
    lines.quantity,
    lines.unit_price,
    lines.amount,
from invoice_lines as lines
inner join invoices using (invoice_id, revision)
where ($period is null or invoices.period = $period)
    and ($client is null or invoices.client_id = $client)
    and ($as_of is null or invoices.issued_on <= $as_of)
order by lines.invoice_id, lines.revision, lines.line_no
