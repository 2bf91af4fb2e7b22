-- The emails catalog: the latest version of each id.
with latest as (
    {{ deduplicate(source('raw', 'emails'), 'id', '_loaded_at desc, _source_row desc') }}
)

select
    id as email_id,
    name,
    subject,
    email_type,
    category,
    from_address,
    language,
    coalesce(published, true) as is_published,
    created_at,
    attributes
from latest
