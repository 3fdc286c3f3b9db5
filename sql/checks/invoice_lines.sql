-- check frame for the invoice_lines suites: one row per line this run adds (in any order: the
-- frame is narrowed to its breaking rows and a sample chosen by value, transforms/validation.py).
select
    invoice_id,
    invoice_id || '#' || revision::varchar || '#' || line_no::varchar as line_key_id,
    line_type,
    item_code,
    quantity,
    amount,
    amount = round(amount, 2) as is_at_currency_scale,
from invoice_lines
