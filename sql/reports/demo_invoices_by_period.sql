-- demo_invoices_by_period (`billing demo` summary): invoices by period.
select period, reseller_id, kind, currency, count(*) as invoices, sum(total) as billed
from invoices
where period in (select unnest($periods::varchar[]))
group by all
order by all
