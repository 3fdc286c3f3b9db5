-- int_<table>_validated for manual_items and payments (template: transforms/models.py
-- builds it per table, filling in the table name): one row per input row with its final
-- verdict; the client must be a valid client of the row's reseller, and the amount, money
-- that is charged or was paid as it stands, must be payable in the reseller's currency: no
-- more decimals than its minor unit (10.005 USD is not an amount anyone paid; rounding it
-- would change the money without a reason).
with rows as (
    select * from int_{table}_deduplicated
),

client_refs as (
    select * from int_client_references
),

other_resellers_clients as (
    select distinct client_id from client_refs where is_valid
),

currencies as (
    select reseller_id, client_id, currency, minor_unit from int_clients_dated
),

final as (
    select
        rows.* replace (
            coalesce(
                rows.reject_reason,
                client_reference_problem(
                    rows.client_id, client_refs.client_id, client_refs.is_valid,
                    other_resellers_clients.client_id),
                case when rows.amount <> round_money(rows.amount, currencies.minor_unit)
                    then 'amount ' || rtrim(rtrim(cast(rows.amount as varchar), '0'), '.') || ' has more decimals than '
                        || currencies.currency
                        || ' allows (' || currencies.minor_unit || ')'
                end
            ) as reject_reason
        ),
    from rows
    left join client_refs
        on client_refs.reseller_id = rows.reseller_id and client_refs.client_id = rows.client_id
    left join other_resellers_clients  -- looked up for unknown clients only: a null key probes nothing
        on other_resellers_clients.client_id = case when client_refs.client_id is null then rows.client_id end
    left join currencies on currencies.reseller_id = rows.reseller_id and currencies.client_id = rows.client_id
)

select * from final
