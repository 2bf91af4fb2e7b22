-- Focus item (pop-up, bar, takeover) performance per day: views, clicks and click rate. One
-- row per (day, focus_item_id) with a view or click. click_rate = clicks / views (clicks per
-- view); a focus item can only be clicked once shown, so clicks never exceed views.
with focus_events as (
    select occurred_on as day, focus_item_id, event_type, visitor_id
    from {{ ref('fct_events') }}
    where event_type in ('focus_view', 'focus_click') and focus_item_id is not null
),

grouped as (
    select
        day,
        focus_item_id,
        count(case when event_type = 'focus_view' then 1 end) as views,
        count(case when event_type = 'focus_click' then 1 end) as clicks,
        count(distinct case when event_type = 'focus_view' then visitor_id end) as unique_viewers,
        count(distinct case when event_type = 'focus_click' then visitor_id end) as unique_clickers
    from focus_events
    group by day, focus_item_id
)

select
    grouped.day,
    grouped.focus_item_id,
    coalesce(items.name, 'Focus item ' || grouped.focus_item_id) as focus_item_name,
    items.focus_type,
    items.style as focus_style,
    grouped.views,
    grouped.clicks,
    grouped.unique_viewers,
    grouped.unique_clickers,
    {{ report_ratio('grouped.clicks', 'grouped.views') }} as click_rate
from grouped
left join {{ ref('stg_focus_items') }} as items on grouped.focus_item_id = items.focus_item_id
