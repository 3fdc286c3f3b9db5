-- int_usage_events_validated: one row per usage_events input row with its final verdict: the
-- rows judged by this run (int_usage_events_verdicts) and the rows of unchanged events files
-- whose verdicts an earlier run reached and no arriving or departing row can change
-- (`kept_usage_events`, provided by transforms/carried.py; empty when the run reads every file).
-- materialize: view (a night does not copy a month of kept verdicts into its work database)
select * from int_usage_events_verdicts
union all by name
select * from kept_usage_events
