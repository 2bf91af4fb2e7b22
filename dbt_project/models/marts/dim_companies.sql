-- Companies, from the company exports and from the company names contacts carry (Mautic
-- creates a company the same way), with contact counts and engagement.
--
-- engagement_score: the points of the company's contacts summed, plus 5 for each contact
-- active in the 30 days before the newest event (the warehouse's clock, so a rebuild is
-- reproducible) — a company where several people engage scores highest.
with exported as (
    select * from {{ ref('stg_companies') }}
),

spellings as (
    select company_id, company_name, count(*) as contacts
    from {{ ref('dim_contacts') }}
    where company_id is not null
    group by company_id, company_name
),

named_by_contacts as (  -- the spelling most contacts use
    select company_id, company_name
    from (
        select
            *,
            row_number() over (partition by company_id order by contacts desc, company_name)
                as spelling_rank
        from spellings
    ) as ranked
    where spelling_rank = 1
),

contacts as (
    select
        company_id,
        count(*) as contact_count,
        sum(case
            when last_active_at >= (select {{ dbt.dateadd('day', -30, 'max(occurred_at)') }} from {{ ref('fct_events') }})
            then 1
            else 0
        end) as active_contact_count,
        sum(points) as total_points,
        max(last_active_at) as last_active_at
    from {{ ref('dim_contacts') }}
    where company_id is not null
    group by company_id
)

select
    coalesce(exported.company_id, named_by_contacts.company_id) as company_id,
    coalesce(exported.company_name, named_by_contacts.company_name) as company_name,
    exported.website,
    exported.industry,
    exported.employee_count,
    exported.annual_revenue,
    exported.city,
    exported.state,
    exported.country,
    exported.company_id is not null as is_imported,
    coalesce(contacts.contact_count, 0) as contact_count,
    coalesce(contacts.active_contact_count, 0) as active_contact_count,
    coalesce(contacts.total_points, 0) as total_points,
    coalesce(contacts.total_points, 0) + 5 * coalesce(contacts.active_contact_count, 0)
        as engagement_score,
    contacts.last_active_at
from exported
full outer join named_by_contacts on exported.company_id = named_by_contacts.company_id
left join contacts
    on coalesce(exported.company_id, named_by_contacts.company_id) = contacts.company_id
