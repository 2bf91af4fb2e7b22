{{ stage_catalog('focus_items', 'focus_item_id', ['name', 'focus_type', 'style', 'url']) }}
