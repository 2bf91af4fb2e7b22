-- The sms catalog: the latest version of each id.
with latest as (
    {{ deduplicate(source('raw', 'sms'), 'id', '_loaded_at desc, _source_row desc') }}
)

select
    id as sms_id,
    name,
    message,
    category,
    language,
    coalesce(published, true) as is_published,
    created_at,
    attributes
from latest
