-- runs_listed (`billing runs`): one row per run, newest first, with what it changed:
-- new invoices (revision 1) and adjustment revisions it wrote, and their totals.
with written as (
    select
        run_id,
        count(*) filter (where revision = 1) as new_invoices,
        count(*) filter (where revision > 1) as adjustments,
        coalesce(sum(total) filter (where revision > 1), 0) as adjusted_by,
    from invoices
    group by run_id
),

final as (
    select
        runs.run_id,
        runs.command,
        runs.period,
        runs.as_of,
        coalesce(written.new_invoices, 0) as new_invoices,
        coalesce(written.adjustments, 0) as adjustments,
        coalesce(written.adjusted_by, 0) as adjusted_by,
        runs.rejects_written as rejects,
        runs.started_at,
    from runs
    left join written using (run_id)
)

select * from final
order by started_at desc, run_id desc
