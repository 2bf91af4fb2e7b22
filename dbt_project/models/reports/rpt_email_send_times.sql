-- When to send: email results by the weekday and hour (UTC) the email was sent, for a
-- best-time heatmap. One row per (send_weekday, send_hour): all 7 x 24 cells, empty ones with
-- zero counts and null rates. opens_at_hour / clicks_at_hour count the open and click events
-- that happened in that weekday and hour (when people read), whichever send they followed.
with cells as (
    select weekdays.d + 1 as weekday, tens.d * 10 + units.d as hour_of_day
    from
        (select 0 as d union all select 1 union all select 2 union all select 3
         union all select 4 union all select 5 union all select 6) as weekdays
        cross join
        (select 0 as d union all select 1 union all select 2) as tens
        cross join
        (select 0 as d union all select 1 union all select 2 union all select 3
         union all select 4 union all select 5 union all select 6 union all select 7
         union all select 8 union all select 9) as units
    where tens.d * 10 + units.d < 24
),

sends as (
    select
        *,
        {{ report_weekday('sent_at') }} as weekday,
        {{ report_hour('sent_at') }} as hour_of_day
    from {{ ref('fct_email_sends') }}
),

counts as (
    select weekday, hour_of_day, {{ report_email_counts('sends') }}
    from sends
    group by weekday, hour_of_day
),

engagement as (
    select
        weekday,
        hour_of_day,
        count(case when event_type = 'email_open' then 1 end) as opens_at_hour,
        count(case when event_type = 'email_click' then 1 end) as clicks_at_hour
    from (
        select
            event_type,
            {{ report_weekday('occurred_at') }} as weekday,
            {{ report_hour('occurred_at') }} as hour_of_day
        from {{ ref('fct_events') }}
        where event_type in ('email_open', 'email_click')
    ) as engagement_events
    group by weekday, hour_of_day
)

select
    cells.weekday as send_weekday,
    {{ report_weekday_name('cells.weekday') }} as send_weekday_name,
    cells.hour_of_day as send_hour,
    {{ report_email_columns('counts') }},
    coalesce(engagement.opens_at_hour, 0) as opens_at_hour,
    coalesce(engagement.clicks_at_hour, 0) as clicks_at_hour
from cells
left join counts
    on cells.weekday = counts.weekday and cells.hour_of_day = counts.hour_of_day
left join engagement
    on cells.weekday = engagement.weekday and cells.hour_of_day = engagement.hour_of_day
