-- Membership periods: the rows of each members file's latest loaded version (a new export
-- of a file replaces its older one; several files add up), one row per (member, start). A
-- period without an end is open; member_until is the last moment of membership (inclusive).
with latest_versions as (
    select _source, max(_loaded_at) as _loaded_at
    from {{ source('raw', 'members') }}
    group by _source
)

select distinct
    trim(members.member_id) as member_id,
    members.email,
    members.name,
    members.member_from,
    members.member_until
from {{ source('raw', 'members') }} as members
inner join latest_versions
    on members._source = latest_versions._source
    and members._loaded_at = latest_versions._loaded_at
