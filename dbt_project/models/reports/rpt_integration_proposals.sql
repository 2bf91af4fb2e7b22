-- The directory's funnel, one row per proposal: proposed on the portal (its own support
-- count, anyone), member supports, the team's endorsement, eligibility, and whether an
-- eligible proposal is listed (dim_integrations.is_listed).
select
    eligibility.proposal_reference,
    eligibility.proposal_id,
    eligibility.title,
    eligibility.state,
    eligibility.category,
    eligibility.published_at,
    eligibility.portal_supports,
    eligibility.member_supports,
    eligibility.is_endorsed,
    eligibility.is_eligible,
    eligibility.integration_id,
    coalesce(integrations.is_listed, false) as is_listed
from {{ ref('int_integration_eligibility') }} as eligibility
left join {{ ref('dim_integrations') }} as integrations
    on eligibility.integration_id = integrations.integration_id
