-- Company engagement: one row per company in dim_companies with its contacts' activity and
-- its engagement score (dim_companies: the contacts' points plus 5 per recently active
-- contact), ranked. The activity totals add up the company's contacts in dim_contacts.
with activity as (
    select
        company_id,
        cast(sum(page_views) as {{ dbt.type_bigint() }}) as page_views,
        cast(sum(form_submissions) as {{ dbt.type_bigint() }}) as form_submissions,
        cast(sum(email_opens) as {{ dbt.type_bigint() }}) as email_opens,
        cast(sum(email_clicks) as {{ dbt.type_bigint() }}) as email_clicks,
        max(stage_order) as highest_stage_order
    from {{ ref('dim_contacts') }}
    where company_id is not null
    group by company_id
),

stages as (
    select stage_order, name as stage_name from {{ ref('stages') }}
)

select
    companies.company_id,
    companies.company_name,
    companies.industry,
    companies.country,
    companies.employee_count,
    case
        when companies.employee_count is null then 'unknown'
        when companies.employee_count <= 10 then '1-10'
        when companies.employee_count <= 50 then '11-50'
        when companies.employee_count <= 200 then '51-200'
        when companies.employee_count <= 1000 then '201-1000'
        when companies.employee_count <= 5000 then '1001-5000'
        else '5001+'
    end as company_size,
    cast(companies.contact_count as {{ dbt.type_bigint() }}) as contact_count,
    cast(companies.active_contact_count as {{ dbt.type_bigint() }}) as active_contact_count,
    {{ report_ratio('companies.active_contact_count', 'companies.contact_count') }} as active_contact_share,
    cast(companies.total_points as {{ dbt.type_bigint() }}) as total_points,
    {{ report_ratio('companies.total_points', 'companies.contact_count') }} as avg_points_per_contact,
    cast(companies.engagement_score as {{ dbt.type_bigint() }}) as engagement_score,
    row_number() over (
        order by companies.engagement_score desc, companies.active_contact_count desc,
            companies.contact_count desc, companies.company_id
    ) as engagement_rank,
    coalesce(activity.page_views, 0) as page_views,
    coalesce(activity.form_submissions, 0) as form_submissions,
    coalesce(activity.email_opens, 0) as email_opens,
    coalesce(activity.email_clicks, 0) as email_clicks,
    stages.stage_name as highest_stage_name,
    companies.last_active_at
from {{ ref('dim_companies') }} as companies
left join activity on companies.company_id = activity.company_id
left join stages on activity.highest_stage_order = stages.stage_order
