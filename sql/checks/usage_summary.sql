-- check frame for the usage_summary suites: units split must add up to the cycle quantity
-- for enabled items (billing-rules.md section 4), and nothing is negative. In any order: the
-- frame is narrowed to its breaking rows and a sample chosen by value (transforms/validation.py).
select
    id_key([reseller_id, client_id, item_code, cycle_start::varchar]) as summary_key,
    quantity,
    billable_units,
    not is_enabled or quantity = blocked_units + included_units_used + bonus_units_used + billable_units
        as units_add_up,
    least(quantity, trial_units, included_units_used, bonus_units_used, blocked_units, billable_units) >= 0
        as is_non_negative,
from usage_summary
