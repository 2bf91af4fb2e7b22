{{ stage_catalog('pages', 'page_id', ['title', 'alias', 'url', 'language', 'category']) }}
