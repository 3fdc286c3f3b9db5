-- int_lead_sales_validated: one row per lead_sales input row with its final verdict and,
-- for a usable sale, the price it is billed at (billing-rules.md section 5).
-- The client's lead price level is its own, else its group's, else its reseller's; the
-- level is settled first, with no fall back to another level's prices. The price is the
-- sale's own price if given, else the level's price for the lead's type, else the level's
-- any-type price, each as in force on the day of the sale (newest effective_from on or
-- before it). A sale with none of those is rejected, never billed at 0.
-- Written as Parquet, read through a view (10M events: 0.28 s against 0.34 s as a DuckDB table).
-- materialize: parquet
with sales as (
    select * from int_lead_sales_deduplicated
),

client_refs as (
    select * from int_client_references
),

other_resellers_clients as (
    select distinct client_id from client_refs where is_valid
),

levels as (
    select
        clients.reseller_id,
        clients.client_id,
        coalesce(clients.lead_price_level, groups.lead_price_level, resellers.lead_price_level) as level_code,
        case
            when clients.lead_price_level is not null then 'client'
            when groups.lead_price_level is not null then 'group'
            when resellers.lead_price_level is not null then 'reseller'
        end as level_source,
    from int_clients_validated as clients
    left join int_groups_validated as groups
        on groups.reseller_id = clients.reseller_id and groups.group_id = clients.group_id
        and groups.reject_reason is null and not groups.is_duplicate
    left join int_resellers_validated as resellers
        on resellers.reseller_id = clients.reseller_id
        and resellers.reject_reason is null and not resellers.is_duplicate
    where clients.reject_reason is null and not clients.is_duplicate
),

prices as (
    select * from int_lead_price_levels_validated where reject_reason is null and not is_duplicate
),

typed_prices as (select * from prices where lead_type is not null),
any_type_prices as (select * from prices where lead_type is null),

leveled as (
    select
        sales.*,
        levels.level_code,
        levels.level_source,
        cast(sales.sold_at as date) as sold_on,
    from sales
    left join levels using (reseller_id, client_id)
),

priced as (
    select
        leveled.*,
        typed_prices.price as type_price,
        any_type_prices.price as any_type_price,
    from leveled
    asof left join typed_prices
        on typed_prices.reseller_id = leveled.reseller_id
        and typed_prices.level_code = leveled.level_code
        and typed_prices.lead_type = leveled.lead_type
        and leveled.sold_on >= typed_prices.effective_from
    asof left join any_type_prices
        on any_type_prices.reseller_id = leveled.reseller_id
        and any_type_prices.level_code = leveled.level_code
        and leveled.sold_on >= any_type_prices.effective_from
),

final as (
    select
        priced.* exclude (type_price, any_type_price, sold_on) replace (
            coalesce(
                priced.reject_reason,
                client_reference_problem(
                    priced.client_id, client_refs.client_id, client_refs.is_valid,
                    other_resellers_clients.client_id),
                case
                    when priced.price is not null then null
                    when priced.level_code is null
                        then 'no lead price level for client ' || priced.client_id
                            || ' (neither the client, its group nor its reseller names one)'
                    when priced.type_price is null and priced.any_type_price is null
                        then 'no price for lead type ' || coalesce(priced.lead_type, '(none)') || ' at level '
                            || priced.level_code || ' on ' || strftime(priced.sold_on, '%Y-%m-%d')
                end
            ) as reject_reason
        ),
        coalesce(priced.price, priced.type_price, priced.any_type_price) as billed_price,
        case
            when priced.price is not null then 'sale price'
            when priced.type_price is not null
                then 'level ' || priced.level_code || ' (from ' || priced.level_source || '): ' || priced.lead_type
            else 'level ' || priced.level_code || ' (from ' || priced.level_source || '): any type'
        end as price_source,
    from priced
    left join client_refs
        on client_refs.reseller_id = priced.reseller_id and client_refs.client_id = priced.client_id
    left join other_resellers_clients  -- looked up for unknown clients only: a null key probes nothing
        on other_resellers_clients.client_id = case when client_refs.client_id is null then priced.client_id end
)

select * from final
