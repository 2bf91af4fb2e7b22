-- Dynamic content variants with the HTML each puts into its slot; the collector serves
-- `content` for the variant personalisation_assignments picks.
select
    dynamic_content_id,
    name,
    slot_name,
    variant,
    content,
    is_published
from {{ ref('stg_dynamic_content') }}
