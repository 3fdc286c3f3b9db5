-- stg_standard_items: one row per standard billing item (billing-rules.md section 1).
-- Built in for every reseller; custom items come from the billing_items extract.
with final as (
    select *
    from (
        values
            ('account', 'Account Defaults', 'account', 'none', 1),
            ('users', 'User Fees', 'user', 'max', 2),
            ('contacts', 'Contact Fees', 'contact', 'max', 3),
            ('emails', 'Email Fees', 'email', 'sum', 4),
            ('lead_aggregation', 'Lead Aggregation Fees', 'lead', 'sum', 5),
            ('reverse_phone_lookup', 'Reverse Telephone lookup fees', 'lookup', 'sum', 6),
            ('email_validation', 'Email Validation Lookup Fees', 'lookup', 'sum', 7),
            ('phone_validation', 'Telephone Validation Lookup Fees', 'lookup', 'sum', 8),
            ('address_validation', 'Address Validation Lookup Fees', 'lookup', 'sum', 9),
            ('page_generator', 'Page Generator Fees', 'page', 'max', 10),
            ('click_to_call', 'Click-to-Call', 'call', 'sum', 11),
            ('sms', 'SMS Messaging', 'message', 'sum', 12),
            ('inbound_call_tracking', 'Inbound Telephone Tracking', 'call', 'sum', 13),
            ('email_integration', 'Email Integration Fees', 'mailbox', 'max', 14)
    ) as items (item_code, item_name, unit, aggregation, sort_order)  -- noqa: AL05
)

select * from final
