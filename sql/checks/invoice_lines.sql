-- check frame for the invoice_lines suites: one row per line this run adds, in the published
-- order (the mart is not sorted; the frame's sample is its first rows).
select
    invoice_id,
    invoice_id || '#' || revision::varchar || '#' || line_no::varchar as line_key_id,
    line_type,
    item_code,
    quantity,
    amount,
    amount = round(amount, 2) as is_at_currency_scale,
from invoice_lines
order by reseller_id, period, invoice_id, revision, line_no
