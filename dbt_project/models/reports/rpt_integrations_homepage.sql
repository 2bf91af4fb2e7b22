-- The home-page ranking per quarter: listed integrations (dim_integrations.is_listed) with
-- at least one counted vote that quarter, ranked by
--   1. votes, more first
--   2. open source before not open source
--   3. the integration's own project is a member before it is not
--   4. the team's use-case score, higher first (no score last)
--   5. integration_id, alphabetical: the deterministic final key, so ranks never tie
-- previous_rank / previous_votes: the same integration in the quarter before (null when it
-- had no counted vote then); rank_change = previous_rank - rank (positive: moved up).
with listed as (
    select * from {{ ref('dim_integrations') }} where is_listed
),

tallies as (
    select
        quarter,
        quarter_start,
        integration_id,
        count(*) as votes,
        cast(extract(year from quarter_start) * 4 + extract(quarter from quarter_start) as integer)
            as quarter_number
    from {{ ref('fct_integration_votes') }}
    group by quarter, quarter_start, integration_id
),

ranked as (
    select
        tallies.quarter,
        tallies.quarter_start,
        tallies.quarter_number,
        tallies.integration_id,
        listed.name,
        tallies.votes,
        listed.is_open_source,
        listed.is_member,
        listed.use_case_score,
        row_number() over (
            partition by tallies.quarter
            order by
                tallies.votes desc,
                listed.is_open_source desc,
                listed.is_member desc,
                coalesce(listed.use_case_score, -1) desc,
                tallies.integration_id
        ) as rank
    from tallies
    inner join listed on tallies.integration_id = listed.integration_id
)

select
    current_quarter.quarter,
    current_quarter.quarter_start,
    current_quarter.integration_id,
    current_quarter.name,
    current_quarter.rank,
    current_quarter.votes,
    current_quarter.is_open_source,
    current_quarter.is_member,
    current_quarter.use_case_score,
    previous_quarter.rank as previous_rank,
    previous_quarter.votes as previous_votes,
    previous_quarter.rank - current_quarter.rank as rank_change
from ranked as current_quarter
left join ranked as previous_quarter
    on current_quarter.integration_id = previous_quarter.integration_id
    and previous_quarter.quarter_number = current_quarter.quarter_number - 1
