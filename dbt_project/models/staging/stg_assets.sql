{{ stage_catalog('assets', 'asset_id', ['title', 'alias', 'url', 'extension', 'category']) }}
