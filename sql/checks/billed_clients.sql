-- check frame: every client with billable activity in the range (billable units of an item
-- with a price) has a cycle invoice on that bill date, in this run or already published.
with active as (
    select distinct summary.reseller_id, summary.client_id, summary.bill_date,
    from usage_summary as summary
    inner join int_allotments_applied_across_cycles as cycles
        on cycles.reseller_id = summary.reseller_id and cycles.client_id = summary.client_id
        and cycles.item_code = summary.item_code and cycles.usage_bill_date = summary.bill_date
        and cycles.cycle_start = summary.cycle_start
    where summary.billable_units > 0
        -- widened first: DECIMAL(18, 6) x DECIMAL(18, 6) stays 18 digits wide, which a million units overflow
        and cast(coalesce(case when cycles.is_metered then cycles.unit_fee else cycles.overage_fee end, 0)
            as decimal(38, 6)) * cast(summary.billable_units as decimal(38, 6)) >= 0.01
),

invoiced as (
    select distinct reseller_id, client_id, invoice_date from invoices where kind = 'cycle'
    union
    select distinct reseller_id, client_id, invoice_date from prior_invoices where kind = 'cycle'
)

select
    active.client_id,
    active.bill_date,
    invoiced.client_id is not null as has_cycle_invoice,
from active
left join invoiced
    on invoiced.reseller_id = active.reseller_id and invoiced.client_id = active.client_id
    and invoiced.invoice_date = active.bill_date
