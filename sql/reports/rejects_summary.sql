-- rejects_summary (Prefect artifact of a run): the period's rejected input rows by reason.
select table_name, reason, count(*) as rows
from rejects
where period = $period
group by all
order by rows desc, table_name, reason
