-- The campaigns catalog: the latest version of each id.
with latest as (
    {{ deduplicate(source('raw', 'campaigns'), 'id', '_loaded_at desc, _source_row desc') }}
)

select
    id as campaign_id,
    name,
    description,
    category,
    coalesce(published, true) as is_published,
    created_at,
    attributes
from latest
