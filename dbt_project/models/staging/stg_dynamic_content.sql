-- The dynamic_content catalog: the latest version of each id.
with latest as (
    {{ deduplicate(source('raw', 'dynamic_content'), 'id', '_loaded_at desc, _source_row desc') }}
)

select
    id as dynamic_content_id,
    name,
    slot_name,
    variant,
    segment_hint,
    coalesce(published, true) as is_published,
    created_at,
    attributes
from latest
