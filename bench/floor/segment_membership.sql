-- Floor for segment_membership: the demo segments' members (segment_id, contact email) in one
-- hand-written query over raw.events (deduplicated by event_id, first arrival wins),
-- raw.contacts, raw.companies and the rules seeds (point_rules, segment_manual_membership).
--
-- Covers all 16 demo segments (models/segments/seg_*.sql), each filter rewritten over the
-- per-contact figures below: points and the ledger's product-interest points, stage history
-- (the stages seed), first web session (sessions and the referrer_classes seed), email
-- do-not-contact, CRM fields, companies and event behaviour in the segment windows.
-- Campaigns are not read: their add/remove-to-segment and change-stage actions (carried out
-- by activation, int_campaign_actions_applied) are left out; manual includes and excludes
-- come from the segment_manual_membership seed only.
--
-- Relative dates resolve against one reference time, as dbt's run start time does: the UTC
-- time now, to the second (the first CTE; pin it there to replay a build).
--
-- Contacts are emails: an event's contact_key names one directly when it looks like an
-- email, else through the contact exports' external_id; events with only a tracking id go to
-- the email the id was most recently linked to (identify, form_submit, email_click) when they
-- happened, and events before its first link to the first email. The known contacts are the
-- exported emails and the emails events are attributed to.
with reference as (
    select date_trunc('second', cast(now() at time zone 'UTC' as timestamp)) as now_at
),
bounds as (
    select
        now_at,
        date_trunc('day', now_at - interval 30 day) as d30,
        date_trunc('day', now_at - interval 60 day) as d60,
        date_trunc('day', now_at - interval 90 day) as d90,
        date_trunc('year', now_at) as this_year
    from reference
),
repeated_ids as (  -- event ids that arrived more than once (few): only those are ranked
    select event_id from raw.events group by event_id having count(*) > 1
),
events as (
    select event_id, event_type, occurred_at, anonymous_id, contact_key, properties
    from raw.events
    where event_id not in (select event_id from repeated_ids)
    union all
    select event_id, event_type, occurred_at, anonymous_id, contact_key, properties
    from raw.events
    where event_id in (select event_id from repeated_ids)
    qualify row_number() over (
        partition by event_id order by _loaded_at, _source, _source_row
    ) = 1
),
exported as (  -- each exported email's latest non-empty fields
    select distinct
        email,
        last_value(external_id ignore nulls) over by_email as external_id,
        last_value(company ignore nulls) over by_email as company_name,
        last_value(country ignore nulls) over by_email as country,
        last_value(tags ignore nulls) over by_email as tags,
        last_value(custom_fields ignore nulls) over by_email as custom_fields,
        last_value(last_active ignore nulls) over by_email as imported_last_active_at,
        min(date_added) over by_email as created_at,
        min(_loaded_at) over by_email as first_loaded_at
    from raw.contacts
    where email is not null
    window by_email as (
        partition by email order by _loaded_at, _source, _source_row
        rows between unbounded preceding and unbounded following
    )
),
external_ids as (
    select external_id, max(email) as email
    from exported
    where external_id is not null
    group by external_id
),
keyed as (
    select
        events.*,
        case
            when events.contact_key like '%_@_%.__%' then events.contact_key
            else external_ids.email
        end as key_email
    from events
    left join external_ids on events.contact_key = external_ids.external_id
),
switches as (  -- the links that change who a tracking id belongs to
    select anonymous_id, email, linked_at
    from (
        select
            anonymous_id, key_email as email, occurred_at as linked_at,
            lag(key_email) over (partition by anonymous_id order by occurred_at, event_id)
                as previous_email
        from keyed
        where anonymous_id is not null and key_email is not null
          and event_type in ('identify', 'form_submit', 'email_click')
    )
    where previous_email is null or previous_email <> email
),
intervals as (
    select
        anonymous_id, email,
        case
            when row_number() over by_id = 1 then timestamp '1900-01-01' else linked_at
        end as valid_from,
        coalesce(lead(linked_at) over by_id, timestamp '9999-12-31') as valid_to
    from switches
    window by_id as (partition by anonymous_id order by linked_at)
),
-- Not materialized: each reader takes its few columns and event types straight from the
-- join; a materialized copy of every event with its properties spilled ~26 GB at 1M contacts.
attributed as not materialized (  -- every event, with its contact when one is known
    select
        keyed.event_id, keyed.event_type, keyed.occurred_at, keyed.anonymous_id,
        keyed.properties, coalesce(keyed.key_email, intervals.email) as contact
    from keyed
    left join intervals
        on keyed.anonymous_id = intervals.anonymous_id
        and keyed.occurred_at >= intervals.valid_from
        and keyed.occurred_at < intervals.valid_to
),
contact_events as (  -- the events of known contacts
    select * from attributed where contact is not null
),
-- points: the point_rules seed applied to each contact's events (no decay: the
-- points_decay_days var is null)
rules as (
    select
        rule_id, event_type, lower(url_pattern) as url_pattern, form_id, asset_id, email_id,
        delta, point_group, repeatable, max_per_contact
    from rules.point_rules
    where is_active
),
scoring as (
    select
        event_id, event_type, occurred_at, contact,
        json_transform(
            properties,
            '{"url":"VARCHAR","link_url":"VARCHAR","form_id":"VARCHAR","asset_id":"VARCHAR","email_id":"VARCHAR","delta":"VARCHAR"}'
        ) as p
    from contact_events
    where event_type in (select event_type from rules) or event_type = 'manual_points'
),
matches as (
    select
        scoring.contact, scoring.occurred_at, scoring.event_id,
        coalesce(rules.point_group, 'default') as point_group,
        rules.delta, rules.repeatable, rules.max_per_contact,
        row_number() over (
            partition by scoring.contact, rules.rule_id
            order by scoring.occurred_at, scoring.event_id
        ) as match_number
    from scoring
    inner join rules
        on scoring.event_type = rules.event_type
        and (rules.url_pattern is null or lower(coalesce(scoring.p.url, scoring.p.link_url)) like rules.url_pattern)
        and (rules.form_id is null or scoring.p.form_id = rules.form_id)
        and (rules.asset_id is null or scoring.p.asset_id = rules.asset_id)
        and (rules.email_id is null or scoring.p.email_id = rules.email_id)
),
ledger as (  -- the awards and manual adjustments, as fct_points_ledger's rows
    select contact, occurred_at, event_id, point_group, delta
    from (
        select
            contact, occurred_at, event_id, point_group,
            case
                when max_per_contact is null then delta
                else sign(delta) * least(
                    abs(delta), greatest(max_per_contact - (match_number - 1) * abs(delta), 0)
                )
            end as delta
        from matches
        where repeatable = 'every_time' or match_number = 1
        union all
        select contact, occurred_at, event_id, 'default', try_cast(p.delta as integer) as delta
        from scoring
        where event_type = 'manual_points'
    )
    where delta <> 0
),
points as (
    select
        contact,
        sum(delta) as points,
        sum(delta) filter (
            where point_group = 'product_interest'
              and occurred_at >= (select d30 from bounds)
        ) as product_interest_30
    from ledger
    group by contact
),
-- per contact: activity dates and the behaviour the segments ask about
behaviour as (
    select
        contact,
        min(occurred_at) as first_seen_at,
        min(occurred_at) filter (
            where event_type in ('identify', 'form_submit') and not campaign_write
        ) as identified_at,
        max(occurred_at) filter (
            where event_type not in (
                'email_sent', 'email_delivered', 'email_bounce', 'sms_sent', 'sms_delivered',
                'sms_failed', 'dnc_change', 'manual_points', 'campaign_action'
            ) and not campaign_write
        ) as last_active_at,
        count(*) filter (where event_type = 'page_hit' and occurred_at >= d30) as page_hits_30,
        bool_or(occurred_at >= d30 and (
            (event_type = 'page_hit' and lower(url) like '%/pricing%' escape '\')
            or (event_type = 'email_click' and lower(link_url) like '%/pricing%' escape '\')
        )) as pricing_30,
        bool_or(lower(utm_source) = 'linkedin' and occurred_at >= d90) as linkedin_90,
        bool_or(event_type in ('email_open', 'email_click') and occurred_at >= d30) as opened_30,
        bool_or(event_type = 'email_sent' and newsletter and occurred_at >= d30) as newsletter_sent_30,
        bool_or(event_type in ('email_open', 'email_click') and newsletter and occurred_at >= d30)
            as newsletter_opened_30,
        bool_or(event_type = 'asset_download' and asset_id = '1' and occurred_at >= d90)
            as playbook_90,
        bool_or(event_type = 'form_submit' and form_id = '5') as webinar_form
    from (
        select
            contact, event_type, occurred_at,
            coalesce(event_type = 'identify' and p.source = 'campaign', false) as campaign_write,
            p.url, p.link_url, p.asset_id, p.form_id, p.utm_source,
            p.email_id in ('4', '6', '7', '8', '9', '11', '12') as newsletter
        from (
            select
                contact, event_type, occurred_at,
                json_transform(
                    properties,
                    '{"source":"VARCHAR","url":"VARCHAR","link_url":"VARCHAR","asset_id":"VARCHAR","form_id":"VARCHAR","utm_source":"VARCHAR","email_id":"VARCHAR"}'
                ) as p
            from contact_events
        )
    ), bounds
    group by contact
),
email_dnc as (  -- the latest email do-not-contact change decides
    select contact, is_dnc
    from (
        select
            contact,
            coalesce(json_extract_string(properties, '$.action'), 'add') <> 'remove' as is_dnc,
            case
                when event_type like 'email%' then 'email'
                else coalesce(json_extract_string(properties, '$.channel'), 'email')
            end as channel,
            row_number() over (
                partition by contact,
                    case
                        when event_type like 'email%' then 'email'
                        else coalesce(json_extract_string(properties, '$.channel'), 'email')
                    end
                order by occurred_at desc, event_id desc
            ) as from_latest
        from contact_events
        where event_type in ('email_unsubscribe', 'dnc_change')
           or (event_type = 'email_bounce'
               and json_extract_string(properties, '$.bounce_type') = 'hard')
    )
    where channel = 'email' and from_latest = 1
),
large_companies as (  -- exported companies with 5,000 employees or more
    select company_id
    from (
        select distinct
            md5(lower(trim(companyname))) as company_id,
            last_value(companynumber_of_employees ignore nulls) over (
                partition by lower(trim(companyname)) order by _loaded_at, _source, _source_row
                rows between unbounded preceding and unbounded following
            ) as employee_count
        from raw.companies
    )
    where employee_count >= 5000
),
-- first touch: the source of each contact's first web session (page hits of a tracking id
-- more than session_timeout_minutes = 30 apart start a new session)
visitor_hits as (
    select
        event_id, anonymous_id, contact, occurred_at,
        p.url, nullif(p.referrer, '') as referrer, lower(p.utm_source) as utm_source,
        lower(p.utm_medium) as utm_medium,
        lag(occurred_at) over (partition by anonymous_id order by occurred_at, event_id)
            as previous_hit_at
    from (
        select
            *,
            json_transform(
                properties,
                '{"url":"VARCHAR","referrer":"VARCHAR","utm_source":"VARCHAR","utm_medium":"VARCHAR"}'
            ) as p
        from attributed
        where event_type = 'page_hit' and anonymous_id is not null
    )
),
hits as (
    select
        *,
        sum(starts_session) over (
            partition by anonymous_id order by occurred_at, event_id rows unbounded preceding
        ) as session_number
    from (
        select
            *,
            case
                when previous_hit_at is null then 1
                when date_diff('second', previous_hit_at, occurred_at) > 30 * 60 then 1
                else 0
            end as starts_session
        from visitor_hits
    )
),
sessions as (  -- the landing hit's fields come from the session's first hit
    select
        anonymous_id, session_number,
        arg_max(contact, md5(contact)) as contact,
        min(occurred_at) as started_at,
        any_value(utm_source) filter (where starts_session = 1) as utm_source,
        any_value(utm_medium) filter (where starts_session = 1) as utm_medium,
        any_value(lower(regexp_extract(referrer, '^[a-z]+://([^/:?#]+)', 1)))
            filter (where starts_session = 1) as referrer_host,
        any_value(lower(regexp_extract(url, '^[a-z]+://([^/:?#]+)', 1)))
            filter (where starts_session = 1) as site_host
    from hits
    group by anonymous_id, session_number
    having arg_max(contact, md5(contact)) is not null
),
first_sessions as (
    select contact, utm_source, utm_medium, referrer_host, site_host
    from sessions
    qualify row_number() over (
        partition by contact
        order by started_at, md5(anonymous_id || ':' || cast(session_number as varchar))
    ) = 1
),
first_touch as (
    select
        contact,
        case
            when utm_source is not null then utm_source
            when referrer_host is null or referrer_host = site_host then '(direct)'
            else coalesce(class_source, referrer_host)
        end as source,
        case
            when utm_medium is not null then utm_medium
            when utm_source is not null then 'unknown'
            when referrer_host is null or referrer_host = site_host then 'direct'
            else coalesce(class_medium, 'referral')
        end as medium
    from (
        select
            first_sessions.*,
            (select min(source) from rules.referrer_classes as classes
             where first_sessions.referrer_host like classes.host_pattern) as class_source,
            (select min(medium) from rules.referrer_classes as classes
             where first_sessions.referrer_host like classes.host_pattern) as class_medium
        from first_sessions
    )
),
contacts as (
    select
        known.contact,
        exported.email is not null as is_exported,
        coalesce(exported.created_at, exported.first_loaded_at) as crm_created_at,
        behaviour.first_seen_at,
        first_touch.source as first_source,
        first_touch.medium as first_medium,
        coalesce(points.product_interest_30, 0) as product_interest_30,
        coalesce(points.points, 0) as points,
        exported.country,
        exported.custom_fields,
        case
            when exported.tags is not null
            then '|' || lower(replace(replace(exported.tags, ', ', '|'), ',', '|')) || '|'
        end as tags,
        md5(lower(trim(exported.company_name))) as company_id,
        coalesce(exported.created_at, behaviour.identified_at, behaviour.first_seen_at)
            as created_at,
        greatest(
            coalesce(behaviour.last_active_at, exported.imported_last_active_at),
            coalesce(exported.imported_last_active_at, behaviour.last_active_at)
        ) as last_active_at,
        coalesce(email_dnc.is_dnc, false) as is_dnc_email,
        coalesce(behaviour.page_hits_30, 0) as page_hits_30,
        coalesce(behaviour.pricing_30, false) as pricing_30,
        coalesce(behaviour.linkedin_90, false) as linkedin_90,
        coalesce(behaviour.opened_30, false) as opened_30,
        coalesce(behaviour.newsletter_sent_30, false) as newsletter_sent_30,
        coalesce(behaviour.newsletter_opened_30, false) as newsletter_opened_30,
        coalesce(behaviour.playbook_90, false) as playbook_90,
        coalesce(behaviour.webinar_form, false) as webinar_form
    from (select email as contact from exported union select contact from behaviour) as known
    left join exported on known.contact = exported.email
    left join behaviour on known.contact = behaviour.contact
    left join points on known.contact = points.contact
    left join email_dnc on known.contact = email_dnc.contact
    left join first_touch on known.contact = first_touch.contact
),
-- stages (the stages seed): the first time each stage's condition held — its points
-- threshold, its event (and form), its CRM tag (from the CRM creation) or, for the first
-- stage, being seen — kept when no higher stage was reached earlier or at the same time
stages as (
    select
        stage_id, name as stage_name, stage_order, min_points, event_type, form_id,
        lower(contact_tag) as contact_tag
    from rules.stages
),
balances as (
    select
        contact, occurred_at, event_id,
        sum(delta) over (
            partition by contact order by occurred_at rows between unbounded preceding and current row
        ) as points
    from (
        select contact, occurred_at, sum(delta) as delta, max(event_id) as event_id
        from ledger
        group by contact, occurred_at
    )
),
stage_contacts as (
    select
        contact, tags,
        case when is_exported then crm_created_at end as created_at,
        least(
            coalesce(first_seen_at, case when is_exported then crm_created_at end),
            coalesce(case when is_exported then crm_created_at end, first_seen_at)
        ) as first_seen_at
    from contacts
),
qualifications as (
    select balances.contact, stages.stage_id, balances.occurred_at as qualified_at,
        balances.event_id, 2 as reason_rank
    from balances
    inner join stages on stages.min_points is not null and balances.points >= stages.min_points
    union all
    select stage_events.contact, stages.stage_id, stage_events.occurred_at,
        stage_events.event_id, 1
    from (
        select
            contact, event_type, occurred_at, event_id,
            json_extract_string(properties, '$.form_id') as form_id
        from contact_events
        where event_type in (select event_type from stages where event_type is not null)
    ) as stage_events
    inner join stages
        on stage_events.event_type = stages.event_type
        and (stages.form_id is null or stage_events.form_id = stages.form_id)
    union all
    select stage_contacts.contact, stages.stage_id, stage_contacts.created_at, null, 3
    from stage_contacts
    inner join stages
        on stages.contact_tag is not null
        and stage_contacts.tags like ('%|' || stages.contact_tag || '|%')
    union all
    select stage_contacts.contact, stages.stage_id, stage_contacts.first_seen_at, null, 4
    from stage_contacts
    cross join stages
    where stages.min_points is null and stages.event_type is null and stages.contact_tag is null
      and stage_contacts.first_seen_at is not null
),
stage_changes as (
    select contact, stage_id, stage_name, stage_order, qualified_at as changed_at
    from (
        select
            *,
            min(qualified_at) over (
                partition by contact order by stage_order desc
                rows between unbounded preceding and 1 preceding
            ) as higher_qualified_at
        from (
            select qualifications.*, stages.stage_name, stages.stage_order
            from qualifications
            inner join stages on qualifications.stage_id = stages.stage_id
            qualify row_number() over (
                partition by qualifications.contact, qualifications.stage_id
                order by qualifications.qualified_at, qualifications.reason_rank,
                    qualifications.event_id
            ) = 1
        )
    )
    where higher_qualified_at is null or qualified_at < higher_qualified_at
),
staged as (  -- per contact: the current stage (the highest entered) and recent qualification
    select
        contact,
        arg_max(stage_id, stage_order) as stage_id,
        arg_max(stage_name, stage_order) as stage_name,
        max(stage_order) as stage_order,
        bool_or(
            (lower(stage_id) in ('mql', 'sql') or lower(stage_name) in ('mql', 'sql'))
            and changed_at >= (select d30 from bounds)
        ) as qualified_30
    from stage_changes
    group by contact
),
manual as (  -- the seed's includes and excludes in effect, resolved to known contacts
    select distinct seed.segment_id, contacts.contact, lower(trim(seed.action)) as action
    from rules.segment_manual_membership as seed
    inner join contacts
        on case
            when nullif(trim(seed.contact_id), '') is not null
            then md5(contacts.contact) = trim(seed.contact_id)
            else contacts.contact = lower(trim(seed.email))
        end
    where seed.added_at is null or seed.added_at <= (select now_at from reference)
),
by_filters as (
    select segment_id, contact
    from (
        select contacts.*, staged.stage_id, staged.stage_name,
            coalesce(staged.stage_order, 0) as stage_order,
            coalesce(staged.qualified_30, false) as qualified_30
        from contacts left join staged on contacts.contact = staged.contact
    ), bounds
    cross join lateral (
        select 'email_dnc' as segment_id, is_dnc_email as matched
        union all select 'enterprise_contacts', company_id in (select company_id from large_companies)
        union all select 'frequent_visitors', page_hits_30 >= 10
        union all select 'hot_leads', points >= 40 and pricing_30
        union all select 'linkedin_responders', linkedin_90
        union all select 'newly_qualified', qualified_30
        union all select 'paid_search_first_touch',
            lower(first_source) = 'google' and lower(first_medium) = 'cpc'
        union all select 'sales_ready',
            stage_order >= (
                select max(stage_order) from rules.stages
                where lower(stage_id) = 'mql' or lower(name) = 'mql'
            )
            and (not lower(stage_id) = 'customer' or stage_id is null)
            and (not lower(stage_name) = 'customer' or stage_name is null)
            and product_interest_30 >= 15
            and last_active_at >= date_trunc('day', now_at - interval 14 day)
        union all select 'newsletter_engaged',
            lower(json_extract_string(custom_fields, '$.newsletter_optin')) = '1'
            and opened_30 and not is_dnc_email
        union all select 'newsletter_non_openers',
            newsletter_sent_30 and not newsletter_opened_30 and not is_dnc_email
        union all select 'playbook_downloaders', playbook_90
        union all select 'reengagement', last_active_at < d60 and not is_dnc_email
        union all select 'signup_anniversary',
            month(created_at) = month(now_at) and day(created_at) = day(now_at) and created_at < this_year
        union all select 'uk_de_new',
            lower(country) in ('united kingdom', 'germany') and created_at >= d90
        union all select 'webinar_registrants', webinar_form or tags like '%|webinar|%' escape '\'
    ) as segment
    where segment.matched
),
members as (  -- filters plus manual includes, minus manual excludes
    select segment_id, contact from by_filters
    union
    select segment_id, contact from manual where action = 'include'
    except
    select segment_id, contact from manual where action = 'exclude'
),
nurture as (  -- a segment of segments
    select 'nurture' as segment_id, contacts.contact
    from contacts
    where contacts.contact in (
            select contact from members
            where segment_id in ('playbook_downloaders', 'webinar_registrants')
        )
      and contacts.contact not in (
            select contact from members where segment_id in ('hot_leads', 'email_dnc')
        )
      and (contacts.tags is null or not contacts.tags like '%|customer|%' escape '\')
    union
    select segment_id, contact from manual where segment_id = 'nurture' and action = 'include'
    except
    select segment_id, contact from manual where segment_id = 'nurture' and action = 'exclude'
)
select segment_id, contact from members
union all
select segment_id, contact from nurture
order by segment_id, contact
