-- The pages catalog: the latest version of each id.
with latest as (
    {{ deduplicate(source('raw', 'pages'), 'id', '_loaded_at desc, _source_row desc') }}
)

select
    id as page_id,
    title,
    alias,
    url,
    language,
    category,
    coalesce(published, true) as is_published,
    created_at,
    attributes
from latest
