-- Focus items (bars, modals, notifications, takeovers); the collector redirects a click on
-- one to its `url`.
select
    focus_item_id,
    name,
    focus_type,
    style,
    url,
    is_published
from {{ ref('stg_focus_items') }}
