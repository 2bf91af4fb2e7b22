-- Every key an event may name a contact by → that contact's email. Emails name themselves;
-- external ids (a Segment userId that is not an email) resolve through the contact exports.
-- Keys that resolve to nothing leave their events anonymous.
with event_keys as (
    select distinct contact_key from {{ ref('stg_events') }} where contact_key is not null
),

external_ids as (
    select external_id, max(email) as email
    from {{ ref('stg_contacts') }}
    where external_id is not null and email is not null
    group by external_id
)

select
    event_keys.contact_key,
    case
        when {{ is_email('event_keys.contact_key') }} then event_keys.contact_key
        else external_ids.email
    end as email
from event_keys
left join external_ids on event_keys.contact_key = external_ids.external_id
where {{ is_email('event_keys.contact_key') }} or external_ids.email is not null
