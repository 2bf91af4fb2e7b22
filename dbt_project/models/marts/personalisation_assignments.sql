-- What each known contact sees in every dynamic content slot and focus placement: of the
-- rules that apply to the contact (segment member, field condition holds, or a default),
-- the one with the lowest priority, then rule_id. The collector reads it per request and
-- falls back to personalisation_defaults for visitors it does not know.
with rules as (
    {{ personalisation_rules_with_items() }}
),

contacts as (  -- the export is keyed by email: contacts known only by a social handle wait
    select contact_id, email, {{ personalisation_fields() | join(', ') }}
    from {{ ref('dim_contacts') }}
    where email is not null
),

members as (
    select segment_id, contact_id from {{ ref('segment_membership') }}
),

candidates as (  -- every (contact, rule) pair whose segment holds, with the field's value
    select
        contacts.contact_id,
        contacts.email,
        rules.*,
        {{ personalisation_field_value('rules.field', 'contacts') }} as actual
    from contacts
    cross join rules
    left join members
        on rules.segment = members.segment_id and contacts.contact_id = members.contact_id
    where rules.segment is null or members.contact_id is not null
),

applying as (
    select
        *,
        row_number() over (
            partition by contact_id, kind, slot order by priority, rule_id
        ) as rule_rank
    from candidates
    where field is null or {{ personalisation_condition('operator', 'actual', 'value') }}
)

select
    email,
    contact_id,
    kind,
    slot,
    rule_id,
    item_id,
    priority,
    item_name,
    variant,
    content,
    url,
    style,
    focus_type
from applying
where rule_rank = 1
