-- int_prepaid_clients: one row per prepaid client (billing-rules.md section 6): a client
-- whose `account` item is priced with a replenishment_amount A. It is prepaid from the
-- first cycle whose pricing gives it one (from its start_date when that is its first
-- cycle), with a prepaid balance of 0 then. A is the amount in force from that day; a
-- later change of A is not applied (the replenishment count is a running formula on A).
with clients as (
    select * from int_clients_billable
),

first_prepaid_pricing as (
    select
        reseller_id,
        client_id,
        min(valid_from) as priced_from,
        arg_min(replenishment_amount, valid_from) as replenishment_amount,
    from int_prices_resolved_by_hierarchy
    where item_code = 'account' and replenishment_amount is not null
    group by all
),

final as (
    select
        clients.reseller_id,
        clients.client_id,
        first_prepaid_pricing.replenishment_amount,
        case
            when first_bill_date_on_or_after(first_prepaid_pricing.priced_from, clients.bill_day)
                <= clients.first_bill_date then clients.start_date
            else first_bill_date_on_or_after(first_prepaid_pricing.priced_from, clients.bill_day)
        end as prepaid_from,
    from clients
    inner join first_prepaid_pricing using (reseller_id, client_id)
)

select * from final
