-- Where contacts enter each campaign from: segments (their members) and forms (submissions).
select
    campaign_id,
    source_type,
    source_id,
    _source as source_file,
    _loaded_at as loaded_at
from {{ campaign_raw_table('campaign_sources') }} as raw_sources
