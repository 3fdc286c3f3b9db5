-- invoice_lines: one row per invoice line this run adds to the warehouse
-- (data-contract.md "Outputs"; billing-rules.md sections 4, 7, 8).
-- A new invoice's revision 1 holds its lines as priced; a re-billed invoice whose lines
-- changed gets revision n+1 (an adjustment) holding only the per-line deltas, keeping the
-- line types they correct, so summing revisions by item and line type gives the current
-- state. Unchanged invoices add nothing: only lines whose quantity or amount changed are
-- kept, so an invoice none of whose lines changed has none here.
-- A line's number within its revision is worked out on the line's key alone and joined back
-- to the wide line by that key (one line per key and invoice: int_invoice_revisions_compared
-- matches wanted lines to billed ones by it, and a second line would be billed twice). Numbering the
-- wide lines held all of them, their ~190-character description and price source included, in
-- the window (10M events, 1.6M lines: the model alone ~1,010 -> ~620 MiB; in the build, as a
-- table, ~0.1 s slower, and the build's peak is int_cycle_lines_priced's: this keeps the
-- invoice lines from becoming it where invoices hold more lines per event).
-- int_invoice_revisions_compared is named twice, not read through one CTE: DuckDB materialises
-- a CTE read twice whole.
-- Written as Parquet, read through a view by publishing and the checks (10M events: 1.6M
-- lines, ~1.35 s against ~1.9 s as a DuckDB table).
-- materialize: parquet
with changed_keys as (
    select
        invoice_id,
        item_code,
        line_type,
        line_key,
        row_number() over (partition by invoice_id order by line_sort, item_code, line_type, line_key) as line_no,
    from int_invoice_revisions_compared
    where delta_quantity <> 0 or delta_amount <> 0
),

new_lines as (
    select
        compared.*,
        changed_keys.line_no,
        compared.last_revision + 1 as revision,
        case when compared.last_revision = 0 then compared.wanted_quantity else compared.delta_quantity end
            as line_quantity,
        case when compared.last_revision = 0 then compared.wanted_amount else compared.delta_amount end
            as line_amount,
    from int_invoice_revisions_compared as compared
    inner join changed_keys
        on changed_keys.invoice_id is not distinct from compared.invoice_id
        and changed_keys.item_code is not distinct from compared.item_code
        and changed_keys.line_type is not distinct from compared.line_type
        and changed_keys.line_key is not distinct from compared.line_key
    where compared.delta_quantity <> 0 or compared.delta_amount <> 0
),

final as (
    select
        invoice_id,
        revision,
        line_no,
        reseller_id,
        client_id,
        kind as invoice_kind,
        item_code,
        line_type,
        line_key,
        description,
        price_source,
        currency,
        cast(line_quantity as decimal(18, 6)) as quantity,
        cast(unit_price as decimal(18, 6)) as unit_price,
        cast(line_amount as decimal(18, 2)) as amount,
        strftime(invoice_date, '%Y-%m') as period,
        invoice_date,
        window_start,
        window_end,
    from new_lines
)

-- Not sorted here: publishing sorts each partition's file, and the check frame sorts its
-- narrow columns. Sorting the wide lines after numbering them held them twice (10M events:
-- 1.7 -> 1.1 s and ~450 MiB less without).
select * from final
