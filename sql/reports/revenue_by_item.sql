-- revenue_by_item (Prefect artifact of a run): what the period billed per item and line type.
select reseller_id, item_code, line_type, sum(amount) as amount, count(*) as lines
from invoice_lines
where period = $period
group by all
order by reseller_id, amount desc
