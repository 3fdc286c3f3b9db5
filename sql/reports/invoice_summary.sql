-- invoice_summary (Prefect artifact of a run): invoices of the period by reseller and kind.
select reseller_id, kind, currency, count(*) as invoices, sum(total) as total
from invoices
where period = $period
group by all
order by all
