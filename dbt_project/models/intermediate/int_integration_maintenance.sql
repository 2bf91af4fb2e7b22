-- The maintenance state of every integration of the catalog, at the reference time.
--
--   active       its newest release or commit is less than `at_risk_after_days` old
--   at risk      no release or commit for `at_risk_after_days`: an episode starts at
--                last activity + at_risk_after_days; its maintainer is due the removal notice
--   notice sent  the notice email (var desk_notice_email_id) was sent to the maintainer in
--                this episode: a send at or after the episode's start
--   removed      `notice_period_days` have passed since that notice with no update between
--
-- An update (a newer release or commit in a later catalog export) moves last activity on:
-- the episode's start moves past now (active again), and a notice sent before it belongs to
-- the old episode and no longer counts. The notice comes back as an email_sent event from
-- the campaign engine (campaign integration_removal_notice), read through fct_email_sends.
-- Thresholds: seed desk_policy.
{{ config(tags=['clock']) }}

{%- set now = segment_reference_time() %}

with policy as (
    select
        max(case when setting = 'at_risk_after_days' then value end) as at_risk_after_days,
        max(case when setting = 'notice_period_days' then value end) as notice_period_days,
        max(case when setting = 'review_max_age_days' then value end) as review_max_age_days
    from {{ ref('desk_policy') }}
),

integrations as (
    select
        integration_id,
        name,
        maintainer_email,
        last_release_at,
        last_commit_at,
        last_reviewed_at,
        case
            when last_release_at is null then last_commit_at
            when last_commit_at is null then last_release_at
            when last_release_at > last_commit_at then last_release_at
            else last_commit_at
        end as last_activity_at
    from {{ ref('stg_integrations') }}
),

episodes as (
    select
        integrations.*,
        {{ dbt.dateadd('day', 'policy.at_risk_after_days', 'integrations.last_activity_at') }}
            as at_risk_from,
        policy.notice_period_days,
        policy.review_max_age_days
    from integrations
    cross join policy
),

notices as (
    select episodes.integration_id, min(sends.sent_at) as notice_sent_at
    from episodes
    inner join {{ ref('fct_email_sends') }} as sends
        on sends.email = episodes.maintainer_email
        and sends.email_id = '{{ var("desk_notice_email_id") }}'
        and sends.sent_at >= episodes.at_risk_from
        and sends.sent_at > episodes.last_activity_at
        and sends.sent_at <= {{ now }}
    group by episodes.integration_id
),

states as (
    select
        episodes.*,
        notices.notice_sent_at,
        {{ dbt.dateadd('day', 'episodes.notice_period_days', 'notices.notice_sent_at') }}
            as removal_due_at,
        {{ dbt.dateadd('day', 'episodes.review_max_age_days', 'episodes.last_reviewed_at') }}
            as review_due_at
    from episodes
    left join notices on episodes.integration_id = notices.integration_id
)

select
    integration_id,
    name,
    maintainer_email,
    case
        when last_activity_at is null or at_risk_from > {{ now }} then 'active'
        when notice_sent_at is null then 'at risk'
        when removal_due_at <= {{ now }} then 'removed'
        else 'notice sent'
    end as status,
    last_activity_at,
    {{ dbt.datediff('last_activity_at', now, 'day') }} as days_since_activity,
    case when at_risk_from <= {{ now }} then at_risk_from end as at_risk_since,
    notice_sent_at,
    removal_due_at,
    last_reviewed_at,
    review_due_at,
    coalesce(review_due_at < {{ now }}, true) as is_review_overdue,
    {{ now }} as evaluated_at
from states
