-- stg_currency_minor_units: ISO 4217 currencies whose minor unit is not 2 (billing-rules.md
-- section 7: amounts round to the currency's minor unit). Any other 3-letter code has 2.
-- Three-decimal currencies are listed so that a reseller using one is rejected with a clear
-- reason: amounts are stored as DECIMAL(18,2).
with final as (
    select *
    from (
        values
            ('BIF', 0), ('CLP', 0), ('DJF', 0), ('GNF', 0), ('ISK', 0), ('JPY', 0),
            ('KMF', 0), ('KRW', 0), ('PYG', 0), ('RWF', 0), ('UGX', 0), ('UYI', 0),
            ('VND', 0), ('VUV', 0), ('XAF', 0), ('XOF', 0), ('XPF', 0),
            ('BHD', 3), ('IQD', 3), ('JOD', 3), ('KWD', 3), ('LYD', 3), ('OMR', 3), ('TND', 3)
    ) as currencies (currency, minor_unit)
)

select * from final
