-- One row per event_id: the first arrival wins, later copies (re-sent or re-exported
-- events) are dropped. Incremental: only rows loaded since the last build are read, and ids
-- already kept are never replaced, so a full rebuild gives the same table.
{{ config(materialized=keyed_incremental(), unique_key='event_id', on_schema_change='append_new_columns') }}

{% set arrived %}
    (
        select * from {{ source('raw', 'events') }}
        {% if is_incremental() %}
        where _loaded_at > (select coalesce(max(loaded_at), '1900-01-01'::timestamp) from {{ this }})
        {% endif %}
    ) as arrived
{% endset %}

with first_arrival as (
    {{ deduplicate(arrived, 'event_id', '_loaded_at, _source, _source_row') }}
)

select
    event_id,
    event_type,
    occurred_at,
    anonymous_id,
    contact_key,
    properties,
    _source as source_file,
    _loaded_at as loaded_at,
    {{ build_time() }} as built_at
from first_arrival
{% if is_incremental() %}
where event_id not in (select event_id from {{ this }})
{% endif %}
