-- Who each tracking id belongs to now: the email of its latest identity interval
-- (int_identity_map), so the collector can personalise for a returning browser that sends
-- only its anonymous id. Ids never linked to an email are not here.
with ranked as (
    select
        anonymous_id,
        email,
        linked_at,
        row_number() over (partition by anonymous_id order by valid_from desc) as from_latest
    from {{ ref('int_identity_map') }}
)

select
    anonymous_id,
    email,
    {{ dbt.hash('email') }} as contact_id,
    linked_at
from ranked
where from_latest = 1
