-- int_pricing_validated: one row per pricing input row with its final verdict: the item must
-- be one the reseller offers, a group row must name a known group of the reseller, a client
-- row a known client of the reseller.
with pricing as (
    select * from int_pricing_deduplicated
),

resellers as (
    select * from int_reseller_references
),

items as (
    select reseller_id, item_code from int_items_offered_by_resellers
),

groups as (
    select reseller_id, group_id from int_groups_validated where reject_reason is null and not is_duplicate
),

client_refs as (
    select * from int_client_references
),

other_resellers_clients as (
    select distinct client_id from client_refs where is_valid
),

final as (
    select
        pricing.* replace (
            coalesce(
                pricing.reject_reason,
                case
                    when not coalesce(resellers.is_valid, false)
                        then reseller_reference_problem(pricing.reseller_id, resellers.reseller_id, resellers.is_valid)
                    when items.item_code is null then 'unknown item_code ' || pricing.item_code
                    when pricing.level = 'group' and groups.group_id is null
                        then 'unknown group ' || pricing.group_id
                    when pricing.level = 'client' then client_reference_problem(
                        pricing.client_id, client_refs.client_id, client_refs.is_valid,
                        other_resellers_clients.client_id)
                end
            ) as reject_reason
        ),
    from pricing
    left join resellers on resellers.reseller_id = pricing.reseller_id
    left join items on items.reseller_id = pricing.reseller_id and items.item_code = pricing.item_code
    left join groups on groups.reseller_id = pricing.reseller_id and groups.group_id = pricing.group_id
    left join client_refs
        on client_refs.reseller_id = pricing.reseller_id and client_refs.client_id = pricing.client_id
    left join other_resellers_clients  -- looked up for unknown clients only: a null key probes nothing
        on other_resellers_clients.client_id = case when client_refs.client_id is null then pricing.client_id end
)

select * from final
