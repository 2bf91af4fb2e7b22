-- Contact growth per day: contacts created, identified and active, the running total, and the
-- anonymous visitors (tracking ids never linked to a contact) beside them. One row per
-- calendar day from the first contact's creation (or first event) to the newest event.
--
-- new_contacts: contacts created that day (dim_contacts.created_at: CRM creation, else first
-- identification, else first seen); identified_contacts: contacts that first identified
-- themselves (identify call or form) that day; active_contacts: contacts that did something
-- that day (fct_contact_activity_daily, as dim_contacts.last_active_at counts);
-- anonymous_visitors: tracking ids with activity that day not (yet) attributed to a contact;
-- new_anonymous_visitors: tracking ids first seen that day that are still anonymous now.
{%- set contacts = ref('dim_contacts') %}
{%- set events = ref('fct_events') %}

with days as (
    {{ report_day_spine(
        '(select min(first_day) from (select min(cast(created_at as date)) as first_day from '
            ~ contacts ~ ' union all select min(occurred_on) from ' ~ events ~ ') as firsts)',
        '(select max(occurred_on) from ' ~ events ~ ')'
    ) }}
),

created as (
    select cast(created_at as date) as day, count(*) as new_contacts
    from {{ contacts }}
    where created_at is not null
    group by cast(created_at as date)
),

identified as (
    select cast(identified_at as date) as day, count(*) as identified_contacts
    from {{ contacts }}
    where identified_at is not null
    group by cast(identified_at as date)
),

active as (
    select activity_on as day, count(distinct contact_id) as active_contacts
    from {{ ref('fct_contact_activity_daily') }}
    group by activity_on
),

anonymous_active as (
    select occurred_on as day, count(distinct anonymous_id) as anonymous_visitors
    from {{ events }}
    where contact_id is null and anonymous_id is not null
    group by occurred_on
),

anonymous_first as (
    select first_day as day, count(*) as new_anonymous_visitors
    from (
        select anonymous_id, min(occurred_on) as first_day
        from {{ events }}
        where anonymous_id is not null
        group by anonymous_id
        having count(contact_id) = 0
    ) as never_linked
    group by first_day
),

daily as (
    select
        days.day,
        coalesce(created.new_contacts, 0) as new_contacts,
        coalesce(identified.identified_contacts, 0) as identified_contacts,
        coalesce(active.active_contacts, 0) as active_contacts,
        coalesce(anonymous_active.anonymous_visitors, 0) as anonymous_visitors,
        coalesce(anonymous_first.new_anonymous_visitors, 0) as new_anonymous_visitors
    from days
    left join created on days.day = created.day
    left join identified on days.day = identified.day
    left join active on days.day = active.day
    left join anonymous_active on days.day = anonymous_active.day
    left join anonymous_first on days.day = anonymous_first.day
)

select
    day,
    new_contacts,
    identified_contacts,
    active_contacts,
    cast(sum(new_contacts) over (
        order by day rows between unbounded preceding and current row
    ) as {{ dbt.type_bigint() }}) as total_contacts,
    anonymous_visitors,
    new_anonymous_visitors,
    cast(sum(new_anonymous_visitors) over (
        order by day rows between unbounded preceding and current row
    ) as {{ dbt.type_bigint() }}) as total_anonymous_visitors
from daily
