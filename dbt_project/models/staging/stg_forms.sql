-- The forms catalog: the latest version of each id.
with latest as (
    {{ deduplicate(source('raw', 'forms'), 'id', '_loaded_at desc, _source_row desc') }}
)

select
    id as form_id,
    name,
    alias,
    form_type,
    category,
    coalesce(published, true) as is_published,
    created_at,
    attributes
from latest
