-- One row per known contact: an email, with fields from the contact exports, or from
-- identify calls and forms for contacts known only through events; or, as Mautic's Social
-- Monitoring does it, the author of a monitored post known only by a social handle (no email
-- until a contact claims the handle, which merges them). Company, points, stage,
-- do-not-contact status per channel, preferred channel and activity dates.
-- Visitors never identified are not here: they are anonymous (fct_sessions).
with exported as (
    select * from {{ ref('stg_contacts') }} where email is not null
),

activity as (
    select * from {{ ref('int_contacts_activity') }}
),

social as (  -- authors known only by their handle
    select * from {{ ref('dim_social_authors') }} where not is_existing_contact
),

known as (
    select {{ dbt.hash('email') }} as contact_id, email from exported
    union
    select contact_id, email from activity
    union
    select contact_id, cast(null as {{ dbt.type_string() }}) as email from social
),

points as (
    select contact_id, sum(delta) as points
    from {{ ref('fct_points_ledger') }}
    group by contact_id
),

stages as (
    select
        contact_id, stage_id, stage_name, stage_order, changed_at,
        row_number() over (partition by contact_id order by stage_order desc, changed_at desc)
            as from_latest
    from {{ ref('fct_stage_changes') }}
),

first_sessions as (
    select
        contact_id, source, medium, campaign,
        row_number() over (partition by contact_id order by started_at, session_id) as session_rank
    from {{ ref('fct_sessions') }}
    where contact_id is not null
)

select
    known.contact_id,
    known.email,
    exported.external_id,
    exported.title,
    coalesce(exported.first_name, activity.traits_first_name, social.author_name) as first_name,
    coalesce(exported.last_name, activity.traits_last_name) as last_name,
    exported.job_title,
    case
        when exported.company_name is not null
        then {{ dbt.hash('lower(trim(exported.company_name))') }}
    end as company_id,
    exported.company_name,
    exported.phone,
    exported.mobile,
    exported.address_line1,
    exported.city,
    exported.state,
    exported.zip_code,
    exported.country,
    exported.timezone,
    exported.preferred_locale,
    -- tags as "|a|b|" so a tag filter is a portable LIKE '%|tag|%'
    case
        when exported.tags is not null
        then '|' || lower(replace(replace(exported.tags, ', ', '|'), ',', '|')) || '|'
    end as tags,
    exported.custom_fields,
    coalesce(points.points, 0) as points,
    stages.stage_id,
    stages.stage_name,
    coalesce(stages.stage_order, 0) as stage_order,
    stages.changed_at as stage_changed_at,
    coalesce(activity.is_dnc_email, false) as is_dnc_email,
    activity.dnc_email_reason,
    activity.dnc_email_at,
    coalesce(activity.is_dnc_sms, false) as is_dnc_sms,
    activity.dnc_sms_reason,
    activity.dnc_sms_at,
    case
        when {{ json_text('exported.custom_fields', 'preferred_channel') }} is not null
            then {{ json_text('exported.custom_fields', 'preferred_channel') }}
        when known.email is not null and not coalesce(activity.is_dnc_email, false) then 'email'
        when exported.mobile is not null and not coalesce(activity.is_dnc_sms, false) then 'sms'
    end as preferred_channel,
    coalesce(
        exported.created_at,
        activity.identified_at,
        activity.first_seen_at,
        social.first_mentioned_at
    ) as created_at,
    coalesce(activity.identified_at, exported.created_at) as identified_at,
    coalesce(
        least(
            coalesce(activity.first_seen_at, exported.created_at),
            coalesce(exported.created_at, activity.first_seen_at)
        ),
        social.first_mentioned_at
    ) as first_seen_at,
    coalesce(
        greatest(
            coalesce(activity.last_active_at, exported.imported_last_active_at),
            coalesce(exported.imported_last_active_at, activity.last_active_at)
        ),
        social.last_mentioned_at
    ) as last_active_at,
    coalesce(activity.page_views, 0) as page_views,
    coalesce(activity.form_submissions, 0) as form_submissions,
    coalesce(activity.email_opens, 0) as email_opens,
    coalesce(activity.email_clicks, 0) as email_clicks,
    first_sessions.source as first_source,
    first_sessions.medium as first_medium,
    first_sessions.campaign as first_campaign,
    exported.email is not null as is_imported,
    -- 'platform:handle' of a contact known only by a social handle
    case when social.contact_id is not null then social.platform || ':' || social.author_handle end
        as social_handle
from known
left join exported on known.email = exported.email
left join activity on known.contact_id = activity.contact_id
left join social on known.contact_id = social.contact_id
left join points on known.contact_id = points.contact_id
left join stages on known.contact_id = stages.contact_id and stages.from_latest = 1
left join first_sessions
    on known.contact_id = first_sessions.contact_id and first_sessions.session_rank = 1
