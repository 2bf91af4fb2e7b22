-- The focus_items catalog: the latest version of each id.
with latest as (
    {{ deduplicate(source('raw', 'focus_items'), 'id', '_loaded_at desc, _source_row desc') }}
)

select
    id as focus_item_id,
    name,
    focus_type,
    style,
    url,
    coalesce(published, true) as is_published,
    created_at,
    attributes
from latest
