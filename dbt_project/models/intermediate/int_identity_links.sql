-- Moments an anonymous visitor (tracking id) showed who they are: an identify call, a form
-- submission or an email click carrying both the tracking id and a contact.
select
    events.anonymous_id,
    keys.email,
    events.occurred_at as linked_at,
    events.event_type as linked_by,
    events.event_id,
    events.loaded_at
from {{ ref('stg_events') }} as events
inner join {{ ref('int_identity_contact_keys') }} as keys
    on events.contact_key = keys.contact_key
where events.anonymous_id is not null
  and events.event_type in ('identify', 'form_submit', 'email_click')
