-- invoice_lines_current (a view in billing.duckdb): one row per invoice x item x line type
-- with what it holds now: the sum of that line over all revisions (billing-rules.md
-- section 8). Lines whose revisions cancel out to nothing are left out.
select
    invoice_id,
    any_value(reseller_id) as reseller_id,
    any_value(client_id) as client_id,
    any_value(period) as period,
    item_code,
    line_type,
    sum(quantity) as quantity,
    sum(amount) as amount,
    arg_max(unit_price, revision) as unit_price,
    arg_max(price_source, revision) as price_source,
from invoice_lines
group by invoice_id, item_code, line_type
having sum(quantity) <> 0 or sum(amount) <> 0
