-- charges_due: one row per charge `billing charges submit` should act on now
-- (billing-rules.md section 9), with its state from the attempt log (the source of truth;
-- the charges table mirrors it):
--   no attempt yet (pending) -> send;
--   an attempt still in flight (the process died between the request and its answer), an
--     error (the request may have reached the processor) or pending_confirmation (the
--     processor was still working on it) -> reconcile with the processor first: apply a
--     final outcome it holds, complete a payment it holds half-done, and send only if it
--     has no trace of the charge;
--   declined -> retried 1, 3 and 7 days after the 1st, 2nd and 3rd decline, then left declined;
--   returned (an ACH debit the bank sent back) with R01 or R09 -> presented again 1 day after
--     the 1st return and 3 days after the 2nd (at most twice, NACHA's limit); any other code
--     is final;
--   submitted (an ACH debit in a file, waiting out its return window), succeeded -> nothing.
-- A charge waits for the batch of its date (batch_date: the invoice date; an adjustment's
-- issue date), even when a period run has already billed a date still to come.
-- minor_unit: the currency's decimals, so processors get the amount in its smallest unit.
-- last_reference: the payment object an earlier attempt made, found again by its id.
with currencies as (
    select * from stg_currency_minor_units
),

attempts as (
    select
        charge_id,
        count(*) filter (where outcome = 'declined') as declines,
        count(*) filter (where outcome = 'returned') as returns,
        max(attempted_at) filter (where outcome = 'returned') as last_returned_at,
        arg_max(message, event_no) filter (where outcome = 'returned') as last_return,
        arg_max(outcome, event_no) as last_outcome,
        max(attempted_at) filter (where outcome = 'declined') as last_declined_at,
        max(attempt_no) as attempts,
        arg_max(processor_reference, event_no) filter (where processor_reference is not null) as last_reference,
    from prior_charge_attempts
    group by charge_id
),

final as (
    select
        charges.*,
        coalesce(currencies.minor_unit, 2) as minor_unit,
        coalesce(attempts.last_outcome, 'pending') as state,
        coalesce(attempts.attempts, 0) as attempts_made,
        coalesce(attempts.declines, 0) as declines,
        attempts.last_reference,
        case coalesce(attempts.declines, 0)
            when 1 then cast(attempts.last_declined_at as date) + 1
            when 2 then cast(attempts.last_declined_at as date) + 3
            when 3 then cast(attempts.last_declined_at as date) + 7
        end as retry_on,
        case when left(attempts.last_return, 3) in ('R01', 'R09') then
            case coalesce(attempts.returns, 0)
                when 1 then cast(attempts.last_returned_at as date) + 1
                when 2 then cast(attempts.last_returned_at as date) + 3
            end
        end as represent_on,
    from prior_all_charges as charges
    left join attempts using (charge_id)
    left join currencies using (currency)
)

select *
from final
where (processor = $processor or $processor is null)
    and coalesce(batch_date, $today) <= $today
    and (
        state in ('pending', 'error', 'in_flight', 'pending_confirmation')
        or (state = 'declined' and retry_on is not null and retry_on <= $today)
        or (state = 'returned' and represent_on is not null and represent_on <= $today)
    )
    and ($sync_only is null or state = 'pending_confirmation')
order by reseller_id, client_id, charge_id
