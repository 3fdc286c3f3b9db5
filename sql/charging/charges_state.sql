-- charges_state: one row per charge with an attempt event, as its attempt log says now
-- (billing-rules.md section 9): the last outcome is the charge's status, with the number of
-- attempts, what the processor knows it by and the last message; the charges table mirrors it.
select
    charge_id,
    arg_max(outcome, event_no) as status,
    max(attempt_no) as attempts,
    arg_max(processor_reference, event_no) filter (where processor_reference is not null) as processor_reference,
    arg_max(message, event_no) as status_reason,
from prior_charge_attempts
group by charge_id
