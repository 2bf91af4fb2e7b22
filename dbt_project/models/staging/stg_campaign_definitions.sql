-- Campaign definitions as ingest validated them from dbt_project/campaigns/*.yml (one row per
-- campaign; a file that failed validation has no row). `entry_from` is when triggers start to
-- count: the file's entry.from, else its first publication minus entry.lookback; null for a
-- campaign never published, which nobody enters.
with definitions as (
    select * from {{ campaign_raw_table('campaign_definitions') }} as raw_definitions
)

select
    campaign_id,
    name as campaign_name,
    description,
    kind,
    is_published,
    allow_restart,
    exit_on_segment_leave,
    published_at,
    coalesce(
        entry_from,
        {{ dbt.dateadd('minute', '-coalesce(entry_lookback_minutes, 0)', 'published_at') }}
    ) as entry_from,
    entry_until,
    default_timezone,
    step_count,
    definition,
    content_hash,
    _source as source_file,
    _loaded_at as loaded_at
from definitions
