{{ stage_catalog('campaigns', 'campaign_id', ['name', 'description', 'category']) }}
