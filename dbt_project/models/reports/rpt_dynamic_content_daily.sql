-- Dynamic content performance per day: how often each variant of each slot was shown. One
-- row per (day, slot_name, variant, dynamic_content_id) with a view; share_of_slot_views is
-- the variant's share of the slot's views that day.
with views as (
    select
        events.occurred_on as day,
        events.dynamic_content_id,
        coalesce(events.slot_name, catalog.slot_name, '(unknown)') as slot_name,
        coalesce(events.variant, catalog.variant, '(unknown)') as variant,
        events.visitor_id,
        events.contact_id
    from {{ ref('fct_events') }} as events
    left join {{ ref('stg_dynamic_content') }} as catalog
        on events.dynamic_content_id = catalog.dynamic_content_id
    where events.event_type = 'dynamic_content_view'
),

grouped as (
    select
        day,
        slot_name,
        variant,
        coalesce(dynamic_content_id, '(unknown)') as dynamic_content_id,
        count(*) as views,
        count(distinct visitor_id) as unique_viewers,
        count(case when contact_id is not null then 1 end) as known_contact_views
    from views
    group by day, slot_name, variant, coalesce(dynamic_content_id, '(unknown)')
),

slots as (
    select day, slot_name, sum(views) as slot_views
    from grouped
    group by day, slot_name
)

select
    grouped.day,
    grouped.slot_name,
    grouped.variant,
    grouped.dynamic_content_id,
    coalesce(catalog.name, grouped.slot_name || ': ' || grouped.variant) as dynamic_content_name,
    grouped.views,
    grouped.unique_viewers,
    grouped.known_contact_views,
    {{ report_ratio('grouped.views', 'slots.slot_views') }} as share_of_slot_views
from grouped
inner join slots on grouped.day = slots.day and grouped.slot_name = slots.slot_name
left join {{ ref('stg_dynamic_content') }} as catalog
    on grouped.dynamic_content_id = catalog.dynamic_content_id
