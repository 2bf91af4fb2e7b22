-- Every vote with whether it counts: the voter was a member at the time of voting (inside
-- one of their membership periods, both ends inclusive). Both kinds of vote are here: a
-- support of a proposal (target = its reference) and a home-page vote (target = an
-- integration id); repeats are removed where each kind is counted.
select
    votes.voter,
    votes.target,
    votes.voted_at,
    exists (
        select 1
        from {{ ref('stg_members') }} as members
        where members.member_id = votes.voter
          and votes.voted_at >= members.member_from
          and (members.member_until is null or votes.voted_at <= members.member_until)
    ) as is_member_vote
from {{ ref('stg_integration_votes') }} as votes
