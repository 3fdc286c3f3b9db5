-- ach_submitted: one row per ACH charge whose latest event is `submitted` (a debit in a NACHA
-- file, inside its return window): the presentment, its trace number and when it was
-- written. The charge batch marks it succeeded after 5 banking days (billing-rules.md
-- section 9, "Outcomes that come later").
with latest as (
    select charge_id, arg_max(outcome, event_no) as outcome, arg_max(attempt_no, event_no) as attempt_no,
        arg_max(processor_reference, event_no) as trace_number, arg_max(attempted_at, event_no) as submitted_at,
    from prior_charge_attempts
    group by charge_id
)

select latest.charge_id, charges.period, latest.attempt_no, latest.trace_number, latest.submitted_at,
from latest
inner join prior_all_charges as charges using (charge_id)
where latest.outcome = 'submitted' and charges.processor = 'ach'
order by latest.charge_id
