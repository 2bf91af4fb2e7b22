-- Which contact a visitor's activity belongs to, as time intervals per tracking id.
--
-- The rule, for a tracking id linked to more than one email (a shared device): each event
-- belongs to the email the id was most recently linked to when it happened; events before
-- the first link belong to the first email. So stitching moves earlier anonymous activity to
-- the contact, and no event is ever counted for two contacts.
with links as (
    select
        anonymous_id,
        email,
        linked_at,
        lag(email) over (partition by anonymous_id order by linked_at, event_id) as previous_email
    from {{ ref('int_identity_links') }}
),

switches as (  -- only the links that change who the id belongs to
    select anonymous_id, email, linked_at
    from links
    where previous_email is null or previous_email <> email
)

select
    anonymous_id,
    email,
    linked_at,
    case
        when row_number() over by_id = 1 then cast('1900-01-01' as timestamp)
        else linked_at
    end as valid_from,
    coalesce(lead(linked_at) over by_id, cast('9999-12-31' as timestamp)) as valid_to
from switches
window by_id as (partition by anonymous_id order by linked_at)
