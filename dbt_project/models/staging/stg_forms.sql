{{ stage_catalog('forms', 'form_id', ['name', 'alias', 'form_type', 'category']) }}
