-- The integrations directory: one row per integration of the catalog, with its flags, its
-- proposal's eligibility and its maintenance status. is_listed: eligible, open source or
-- from an official partner (a closed-source integration of a non-partner is never listed),
-- and not removed.
select
    integrations.integration_id,
    integrations.name,
    integrations.proposal_reference,
    integrations.licence,
    integrations.repository_url,
    integrations.is_open_source,
    integrations.is_partner,
    integrations.is_member,
    integrations.use_case_score,
    integrations.maintainer_email,
    coalesce(eligibility.member_supports, 0) as member_supports,
    coalesce(eligibility.is_eligible, false) as is_eligible,
    maintenance.status,
    coalesce(eligibility.is_eligible, false)
        and (integrations.is_open_source or integrations.is_partner)
        and maintenance.status <> 'removed' as is_listed
from {{ ref('stg_integrations') }} as integrations
left join {{ ref('int_integration_eligibility') }} as eligibility
    on integrations.proposal_reference = eligibility.proposal_reference
left join {{ ref('int_integration_maintenance') }} as maintenance
    on integrations.integration_id = maintenance.integration_id
