{{ stage_catalog('dynamic_content', 'dynamic_content_id', ['name', 'slot_name', 'variant', 'segment_hint', 'content']) }}
