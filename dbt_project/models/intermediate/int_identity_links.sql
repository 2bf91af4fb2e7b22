-- Moments an anonymous visitor (tracking id) showed who they are: an identify call, a form
-- submission or an email click carrying both the tracking id and a contact. One row per event:
-- stg_events passes on every arrival, and the first wins (as in fct_events).
{% set linking_events %}
    (
        select * from {{ ref('stg_events') }}
        where anonymous_id is not null
          and event_type in ('identify', 'form_submit', 'email_click')
    ) as linking_events
{% endset %}

with events as (
    {{ deduplicate(linking_events, 'event_id', 'loaded_at, source_file, source_row') }}
)

select
    events.anonymous_id,
    keys.email,
    events.occurred_at as linked_at,
    events.event_type as linked_by,
    events.event_id,
    events.loaded_at
from events
inner join {{ ref('int_identity_contact_keys') }} as keys
    on events.contact_key = keys.contact_key
