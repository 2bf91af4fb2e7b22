-- The home-page votes that count: one row per (integration, member, quarter), the member's
-- first vote for it that quarter. A vote from someone who was not a member when voting,
-- or for something that is not an integration of the catalog, is not here; a repeated
-- vote in the same quarter is the same row.
with counted as (
    select
        target as integration_id,
        voter as member_id,
        {{ desk_quarter('voted_at') }} as quarter,
        voted_at,
        row_number() over (
            partition by target, voter, {{ desk_quarter('voted_at') }} order by voted_at
        ) as nth_vote
    from {{ ref('int_integration_member_votes') }}
    where is_member_vote
      and target in (select integration_id from {{ ref('stg_integrations') }})
)

select
    integration_id,
    member_id,
    quarter,
    cast({{ dbt.date_trunc('quarter', 'voted_at') }} as date) as quarter_start,
    voted_at
from counted
where nth_vote = 1
