-- Segment additions and removals, one row per contact entering or leaving a segment per
-- build: the difference between the members the segment models just computed and the
-- members this log says each segment had after the previous build.
--
-- Incremental and append-only: a build adds its changes with changed_at = the build's
-- reference time (segment_reference_time) and build_number = the previous one + 1; a build
-- that changes nothing adds nothing. A (segment, contact) pair is a member after a build when
-- it has more 'added' than 'removed' rows (they alternate). `full_refresh: false` keeps the
-- log through `dbt build --full-refresh`, which would otherwise restart it as if every member
-- had just joined. The first build of a segment (a new segment, or a new warehouse) records
-- its members as 'added' with is_baseline = true: charts of growth and churn leave those out.
-- A segment model that is deleted gets no 'removed' rows: its history simply stops.
{{ segment_registry() }}
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    full_refresh=false,
    on_schema_change='append_new_columns',
) }}

with current_members as (
    {{ segment_union() }}
),

evaluated_segments as (  -- every segment of this build, also those left with no member
    {{ segment_ids_query() }}
),

{% if is_incremental() %}
previous_members as (
    select segment_id, contact_id
    from {{ this }}
    group by segment_id, contact_id
    having sum(case when change = 'added' then 1 else -1 end) > 0
),

logged_segments as (
    select distinct segment_id from {{ this }}
),

previous_build as (
    select coalesce(max(build_number), 0) as build_number from {{ this }}
),
{% else %}
previous_members as (
    select
        cast(null as {{ dbt.type_string() }}) as segment_id,
        cast(null as {{ dbt.type_string() }}) as contact_id
    where 1 = 0
),

logged_segments as (
    select cast(null as {{ dbt.type_string() }}) as segment_id where 1 = 0
),

previous_build as (
    select 0 as build_number
),
{% endif %}

changes as (
    select current_members.segment_id, current_members.contact_id, 'added' as change
    from current_members
    where not exists (
        select 1 from previous_members
        where previous_members.segment_id = current_members.segment_id
          and previous_members.contact_id = current_members.contact_id
    )

    union all

    select previous_members.segment_id, previous_members.contact_id, 'removed' as change
    from previous_members
    inner join evaluated_segments on previous_members.segment_id = evaluated_segments.segment_id
    where not exists (
        select 1 from current_members
        where current_members.segment_id = previous_members.segment_id
          and current_members.contact_id = previous_members.contact_id
    )
)

select
    changes.segment_id,
    changes.contact_id,
    changes.change,
    {{ segment_reference_time() }} as changed_at,
    previous_build.build_number + 1 as build_number,
    '{{ invocation_id }}' as invocation_id,
    changes.segment_id not in (select segment_id from logged_segments) as is_baseline
from changes
cross join previous_build
