-- rejects_summary (Prefect artifact of a run): the period's rejected input rows by reason.
select table_name, reason, count(*) as row_count
from rejects
where period = $period
group by all
order by row_count desc, table_name, reason
