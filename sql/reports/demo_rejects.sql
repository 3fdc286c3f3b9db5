-- demo_rejects (`billing demo` summary): rejected input rows.
select table_name, reason, count(distinct [source_file, source_line::varchar]) as row_count
from rejects
group by all
order by row_count desc, reason
