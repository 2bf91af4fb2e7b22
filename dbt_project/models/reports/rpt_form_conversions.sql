-- Form conversions per form over all time: views of the pages carrying the form, the sessions
-- that saw it and the ones that submitted it (totals of rpt_form_conversions_daily, same
-- definitions), plus distinct submitting contacts. One row per form of the catalog (forms
-- never submitted have zeros), plus any form id submitted without being in the catalog.
with totals as (
    select
        form_id,
        cast(sum(form_views) as {{ dbt.type_bigint() }}) as form_views,
        cast(sum(viewing_sessions) as {{ dbt.type_bigint() }}) as viewing_sessions,
        cast(sum(submissions) as {{ dbt.type_bigint() }}) as submissions,
        cast(sum(converted_sessions) as {{ dbt.type_bigint() }}) as converted_sessions
    from {{ ref('rpt_form_conversions_daily') }}
    group by form_id
),

submits as (
    select
        form_id,
        count(distinct page_id) as form_pages,
        count(distinct contact_id) as submitting_contacts,
        min(occurred_at) as first_submitted_at,
        max(occurred_at) as last_submitted_at
    from {{ ref('fct_events') }}
    where event_type = 'form_submit' and form_id is not null
    group by form_id
),

forms as (
    select form_id, name, form_type, is_published from {{ ref('stg_forms') }}
)

select
    coalesce(forms.form_id, submits.form_id) as form_id,
    coalesce(forms.name, 'Form ' || submits.form_id) as form_name,
    forms.form_type,
    coalesce(forms.is_published, false) as is_published,
    coalesce(submits.form_pages, 0) as form_pages,
    coalesce(totals.form_views, 0) as form_views,
    coalesce(totals.viewing_sessions, 0) as viewing_sessions,
    coalesce(totals.submissions, 0) as submissions,
    coalesce(totals.converted_sessions, 0) as converted_sessions,
    {{ report_ratio('totals.converted_sessions', 'totals.viewing_sessions') }} as conversion_rate,
    coalesce(submits.submitting_contacts, 0) as submitting_contacts,
    submits.first_submitted_at,
    submits.last_submitted_at
from forms
full outer join submits on forms.form_id = submits.form_id
left join totals on coalesce(forms.form_id, submits.form_id) = totals.form_id
