-- demo_billed_per_item (`billing demo` summary): total billed per item.
select reseller_id, item_code, sum(amount) as billed, count(*) as lines
from invoice_lines
where period in (select unnest($periods::varchar[]))
group by all
order by reseller_id, billed desc
