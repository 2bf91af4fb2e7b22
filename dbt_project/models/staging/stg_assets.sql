-- The assets catalog: the latest version of each id.
with latest as (
    {{ deduplicate(source('raw', 'assets'), 'id', '_loaded_at desc, _source_row desc') }}
)

select
    id as asset_id,
    title,
    alias,
    url,
    extension,
    category,
    coalesce(published, true) as is_published,
    created_at,
    attributes
from latest
