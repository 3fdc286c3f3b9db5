-- Shared scalar macros for the staging models: strict parsing of the extract formats of
-- data-contract.md (ISO dates, ISO 8601 UTC timestamps, decimal strings, true/false).

-- money / unit price: a decimal string with at most 6 decimals ("12.50", "-3", "0.0015")
create or replace macro is_decimal_text(x) as
    regexp_full_match(x, '-?[0-9]{1,12}(\.[0-9]{1,6})?');

-- a count of units: non-negative, at most 6 decimals
create or replace macro is_units_text(x) as
    regexp_full_match(x, '[0-9]{1,12}(\.[0-9]{1,6})?');

create or replace macro is_int_text(x) as
    regexp_full_match(x, '-?[0-9]{1,9}');

create or replace macro is_date_text(x) as
    regexp_full_match(x, '[0-9]{4}-[0-9]{2}-[0-9]{2}') and try_cast(x as date) is not null;

-- ISO 8601; a value without an offset is taken as UTC (the session time zone is UTC)
create or replace macro to_utc_timestamp(x) as
    try_cast(try_cast(x as timestamptz) as timestamp);

create or replace macro is_bool_text(x) as
    lower(x) in ('true', 'false');

create or replace macro to_bool(x) as
    case lower(x) when 'true' then true when 'false' then false end;

-- A payment card number: 13-19 digits (spaces/dashes allowed) passing the Luhn check.
create or replace macro card_digits(x) as
    regexp_replace(coalesce(x, ''), '[ -]', '', 'g');

create or replace macro looks_like_card(x) as
    regexp_full_match(card_digits(x), '[0-9]{13,19}')
    and coalesce(list_sum(list_transform(
        string_split(reverse(card_digits(x)), ''),
        lambda d, i: case
            when i % 2 = 0 then coalesce(try_cast(d as integer), 0) * 2
                - case when coalesce(try_cast(d as integer), 0) * 2 > 9 then 9 else 0 end
            else coalesce(try_cast(d as integer), 0)
        end
    )) % 10 = 0, false);

-- what the rejects show instead of a card number: all but the last four digits masked
create or replace macro mask_card(x) as
    repeat('*', length(card_digits(x)) - 4) || right(card_digits(x), 4);

-- Ids are text without control characters (tab, newline, NUL, DEL, ...).
create or replace macro has_control_character(x) as
    regexp_matches(x, '[\x00-\x1f\x7f]');

-- A reseller_id names warehouse folders, so it is a plain name (data-contract.md "Extracts"):
-- a letter or digit, then up to 63 letters, digits, '_', '.' or '-'.
create or replace macro is_reseller_id_text(x) as
    regexp_full_match(x, '[A-Za-z0-9][A-Za-z0-9_.-]{0,63}');

create or replace macro reseller_id_format_problem() as
    'reseller_id must be 1-64 characters: a letter or digit, then letters, digits, _ . or -';

-- Why a row pointing at a reseller cannot use it (null when it can).
create or replace macro reseller_reference_problem(reseller_id, known_reseller_id, is_valid) as
    case
        when known_reseller_id is null then 'unknown reseller ' || reseller_id
        when not is_valid then 'unknown reseller: reseller ' || reseller_id || ' was rejected (see its resellers row)'
    end;

-- Why a row pointing at a client cannot use it (null when it can): the client must be a
-- valid client of the row's own reseller.
create or replace macro client_reference_problem(client_id, known_client_id, is_valid, other_reseller_client_id) as
    case
        when known_client_id is null and other_reseller_client_id is not null
            then 'client belongs to another reseller'
        when known_client_id is null then 'unknown client ' || client_id
        when not is_valid then 'client ' || client_id || ' was rejected (see its clients row)'
    end;

-- Round an amount once, half away from zero (DuckDB DECIMAL rounding), to the currency's
-- minor unit (billing-rules.md section 7). Constant scales keep the value a DECIMAL.
create or replace macro round_money(amount, minor_unit) as
    case
        when minor_unit = 0 then cast(round(amount, 0) as decimal(18, 2))
        else cast(round(amount, 2) as decimal(18, 2))
    end;

-- The number (months from first_bill_date) of a client's last bill date on or before day d;
-- bill dates fall on first_bill_date's day every month (-1 and below: before the first).
create or replace macro bill_no_on_or_before(first_bill_date, d) as
    datediff('month', first_bill_date, d) - case when day(d) < day(first_bill_date) then 1 else 0 end;

-- The first bill date (day bill_day of a month) on or after a date.
create or replace macro first_bill_date_on_or_after(d, bill_day) as
    case
        when day(d) <= bill_day then make_date(year(d), month(d), bill_day)
        else cast(make_date(year(d), month(d), bill_day) + interval 1 month as date)
    end;

-- One integer naming a cycle (client x item x cycle), from the numbers of int_clients_billable
-- (client_no) and int_items_offered_by_resellers (item_no) and its cycle_no: the usage roll-up
-- sums the events per cycle on it, and its readers meet their cycle again on it, instead of
-- on four keys, three of them text. Distinct cycles get distinct keys (a HUGEINT: the three
-- numbers are positive, and item_no and cycle_no each have 32 bits, far more than there are
-- items or months).
create or replace macro cycle_key(client_no, item_no, cycle_no) as
    (cast(client_no as hugeint) << 64) | (cast(item_no as hugeint) << 32) | cast(cycle_no as hugeint);

-- Which pricing level supplied an option: the lowest level whose row has a value, as a code
-- (3 client, 2 group, 1 account, 0 default) that option_source_label names. The resolved
-- prices carry eleven of them per change point: as text, writing them was most of writing
-- that model (1.5M change points at 10M events: 0.57 of its 0.77 s Parquet write).
create or replace macro option_source(client_value, group_value, account_value) as
    cast(case
        when client_value is not null then 3
        when group_value is not null then 2
        when account_value is not null then 1
        else 0
    end as utinyint);

-- An option_source code's level by name; no code (no change point in force) is the default.
create or replace macro option_source_label(code) as
    ['default', 'account', 'group', 'client'][coalesce(code, 0) + 1];

-- A stable invoice id: the same reseller, client, kind and date always give the same id.
create or replace macro invoice_id_for(reseller_id, client_id, kind, invoice_date) as
    'INV-' || upper(left(md5(concat_ws('|', reseller_id, client_id, kind, strftime(invoice_date, '%Y-%m-%d'))), 16));

-- A composite key as text: its parts joined by the unit separator (chr 31). Ids hold no
-- control characters (rejected at ingest), so two different lists never give the same key.
create or replace macro id_key(parts) as
    array_to_string(parts, chr(31));

-- A ledger entry's id: the same entry proposed again (by a re-run or a resubmission) has
-- the same id, so the ledger can tell it already holds it.
create or replace macro ledger_entry_id_for(entry_type, reseller_id, client_id, reference) as
    'LE-' || upper(left(md5(id_key([entry_type, reseller_id, client_id, reference])), 16));

-- The key hashes that more than one row of a staged extract table shares (each once): the
-- deduplication's suspects (intermediate/int_rows_deduplicated.sql). Numbered in a window,
-- which spills to disk in order: grouping 100M key hashes at a 2GB memory limit failed to
-- allocate in some runs (bench/results.md), and a count over the window would be rewritten
-- by DuckDB into that grouping.
create or replace macro repeated_key_hashes_of(staged_table) as table
    select _key_hash
    from (select _key_hash, row_number() over (partition by _key_hash) as nth_row from query_table(staged_table))
    where nth_row = 2;

-- The rows of a staged extract table whose key hash another row shares: their key hash and
-- line (nth_row = 2 on one row per hash), in the same one window (see repeated_key_hashes_of);
-- a row with no later one of its hash is told by lead, not by a count. Read by the listing
-- before the deduplication (transforms/models.py); the deduplication's own search, for more
-- rows than that lists, keeps repeated_key_hashes_of, whose window carries the hashes alone.
create or replace macro repeated_key_rows_of(staged_table) as table
    select _key_hash, _source_line, nth_row
    from (
        select
            _key_hash,
            _source_line,
            row_number() over by_hash as nth_row,
            lead(_key_hash) over by_hash as next_hash,
        from query_table(staged_table)
        window by_hash as (partition by _key_hash)
    )
    where nth_row > 1 or next_hash is not null;
