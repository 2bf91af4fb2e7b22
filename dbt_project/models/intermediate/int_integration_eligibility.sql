-- One row per proposal: its member supports and whether it is eligible for the directory.
--
-- Eligible = at least `min_supporting_votes` (seed desk_policy) distinct members supported
-- the proposal while members (a repeated support counts once, a non-member's not at all)
-- AND the marketing team endorsed it (Decidim's `endorsements/total_count` ≥ 1: on the
-- integrations space only the team's group can endorse). `portal_supports` is the portal's
-- own count (anyone), shown beside it as "proposed".
with supports as (
    select target as proposal_reference, count(distinct voter) as member_supports
    from {{ ref('int_integration_member_votes') }}
    where is_member_vote
    group by target
),

integrations as (
    select proposal_reference, min(integration_id) as integration_id
    from {{ ref('stg_integrations') }}
    where proposal_reference is not null
    group by proposal_reference
)

select
    proposals.proposal_reference,
    proposals.proposal_id,
    proposals.title,
    proposals.state,
    proposals.category,
    proposals.published_at,
    integrations.integration_id,
    proposals.portal_supports,
    coalesce(supports.member_supports, 0) as member_supports,
    proposals.endorsements,
    proposals.endorsements >= 1 as is_endorsed,
    coalesce(supports.member_supports, 0) >= {{ desk_threshold('min_supporting_votes') }}
        and proposals.endorsements >= 1 as is_eligible
from {{ ref('stg_integration_proposals') }} as proposals
left join supports on proposals.proposal_reference = supports.proposal_reference
left join integrations on proposals.proposal_reference = integrations.proposal_reference
