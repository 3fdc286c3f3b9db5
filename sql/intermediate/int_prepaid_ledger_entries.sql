-- int_prepaid_ledger_entries: one row per prepaid ledger entry (top-up or drawdown) dated
-- in the run's range (billing-rules.md section 6). Until prepaid billing is built this
-- model is empty with the ledger's columns, so the ledger reads the same either way.
with final as (
    select
        null::varchar as reseller_id,
        null::varchar as client_id,
        null::varchar as entry_type,
        null::varchar as reference,
        null::varchar as invoice_id,
        null::varchar as currency,
        null::decimal(18, 2) as amount,
        null::decimal(18, 2) as prepaid_amount,
        null::timestamp as entry_at,
        null::date as due_date,
    where false
)

select * from final
