-- Form conversions per day, form and traffic source: how many sessions viewed a page carrying
-- the form, and how many of them submitted it. One row per (day, form_id, source, medium).
--
-- A form's pages are the pages its submissions were made on (form_submit.page_id). A page
-- view or a submission belongs to the session of the same tracking id that was open at the
-- time (a submission up to `session_timeout_minutes` after the session's last page view
-- still counts for it); day, source and medium are that session's (its start day). A
-- submission with no such session counts on its own day under source and medium
-- '(unattributed)', with no view. conversion_rate = converted_sessions / viewing_sessions:
-- of the sessions that saw the form, the share that submitted it — always between 0 and 1,
-- and additive counts let a dashboard recompute it over any range.
{% set session_columns = [
    'sessions.session_id', 'sessions.started_on', 'sessions.source', 'sessions.medium',
] %}

with form_submits as (
    select event_id, form_id, page_id, anonymous_id, occurred_at, occurred_on
    from {{ ref('fct_events') }}
    where event_type = 'form_submit' and form_id is not null
),

form_pages as (
    select distinct form_id, page_id from form_submits where page_id is not null
),

sessions as (
    select session_id, anonymous_id, started_at, ended_at, started_on, source, medium
    from {{ ref('fct_sessions') }}
),

-- Per form and session, with the session's day, source and medium carried along (they
-- follow from session_id): joining the sessions again after grouping cost a second hash
-- table of every session (1M contacts: 7M sessions, 6.5M form sessions).
form_views as (  -- per form and session: views of the form's pages
    select
        form_pages.form_id,
        {{ session_columns | join(', ') }},
        count(*) as views
    from {{ ref('fct_events') }} as hits
    inner join form_pages on hits.page_id = form_pages.page_id
    inner join sessions
        on hits.anonymous_id = sessions.anonymous_id
        and hits.occurred_at >= sessions.started_at
        and hits.occurred_at <= sessions.ended_at
    where hits.event_type = 'page_hit'
    group by form_pages.form_id, {{ session_columns | join(', ') }}
),

submissions as (  -- every submission with its session, if any (sessions never overlap)
    select
        form_submits.event_id,
        form_submits.form_id,
        form_submits.occurred_on,
        {{ session_columns | join(', ') }}
    from form_submits
    left join sessions
        on form_submits.anonymous_id = sessions.anonymous_id
        and form_submits.occurred_at >= sessions.started_at
        and form_submits.occurred_at
            <= {{ dbt.dateadd('minute', var('session_timeout_minutes'), 'sessions.ended_at') }}
),

session_submissions as (
    select form_id, session_id, started_on, source, medium, count(*) as submissions
    from submissions
    where session_id is not null
    group by form_id, session_id, started_on, source, medium
),

session_forms as (
    select
        coalesce(form_views.form_id, session_submissions.form_id) as form_id,
        coalesce(form_views.started_on, session_submissions.started_on) as started_on,
        coalesce(form_views.source, session_submissions.source) as source,
        coalesce(form_views.medium, session_submissions.medium) as medium,
        coalesce(form_views.views, 0) as views,
        coalesce(session_submissions.submissions, 0) as submissions
    from form_views
    full outer join session_submissions
        on form_views.form_id = session_submissions.form_id
        and form_views.session_id = session_submissions.session_id
),

attributed as (
    select
        started_on as day,
        form_id,
        coalesce(source, '(direct)') as source,
        coalesce(medium, 'direct') as medium,
        views,
        submissions
    from session_forms
    union all
    select
        occurred_on as day,
        form_id,
        '(unattributed)' as source,
        '(unattributed)' as medium,
        0 as views,
        1 as submissions
    from submissions
    where session_id is null
),

grouped as (
    select
        day,
        form_id,
        source,
        medium,
        cast(sum(views) as {{ dbt.type_bigint() }}) as form_views,
        count(case when views > 0 then 1 end) as viewing_sessions,
        cast(sum(submissions) as {{ dbt.type_bigint() }}) as submissions,
        count(case when views > 0 and submissions > 0 then 1 end) as converted_sessions
    from attributed
    group by day, form_id, source, medium
)

select
    grouped.day,
    grouped.form_id,
    coalesce(forms.name, 'Form ' || grouped.form_id) as form_name,
    grouped.source,
    grouped.medium,
    grouped.form_views,
    grouped.viewing_sessions,
    grouped.submissions,
    grouped.converted_sessions,
    {{ report_ratio('grouped.converted_sessions', 'grouped.viewing_sessions') }} as conversion_rate
from grouped
left join {{ ref('stg_forms') }} as forms on grouped.form_id = forms.form_id
