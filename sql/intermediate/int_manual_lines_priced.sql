-- int_manual_lines_priced: one row per manual ("Add Invoice") item billed in the run's
-- range (billing-rules.md section 7). bill_mode now: a `manual` invoice dated the day the
-- item was created. next_invoice: a line on the client's next cycle invoice, the first bill
-- date on or after the day it was created (a cancelled client's items after its final bill
-- date go on a manual invoice instead). A negative amount is a credit.
with params as (
    select * from run_params
),

clients as (
    select * from int_clients_billable
),

items as (
    select * from int_manual_items_validated where reject_reason is null and not is_duplicate
),

placed as (
    select
        items.*,
        clients.currency,
        clients.minor_unit,
        greatest(clients.first_bill_date, first_bill_date_on_or_after(cast(items.created_at as date), clients.bill_day))
            as next_bill_date,
        clients.final_bill_date,
    from items
    inner join clients using (reseller_id, client_id)
),

dated as (
    select
        placed.*,
        case
            when bill_mode = 'next_invoice' and (final_bill_date is null or next_bill_date <= final_bill_date)
                then 'cycle'
            else 'manual'
        end as kind,
    from placed
),

final as (
    select
        reseller_id,
        client_id,
        kind,
        'manual' as item_code,
        'manual' as line_type,
        manual_item_id as line_key,
        coalesce(description, 'Manual item ' || manual_item_id) as description,
        'manual item ' || manual_item_id as price_source,
        currency,
        100000 + row_number() over (partition by reseller_id, client_id order by manual_item_id) as line_sort,
        cast(1 as decimal(18, 6)) as quantity,
        cast(amount as decimal(18, 6)) as unit_price,
        round_money(amount, minor_unit) as amount,
        case when kind = 'cycle' then next_bill_date else cast(created_at as date) end as invoice_date,
    from dated
)

select final.*
from final
cross join params
where final.invoice_date >= params.range_start and final.invoice_date < params.range_end
