-- Every vote with whether it counts: the voter was a member at the time of voting (inside
-- one of their membership periods, both ends inclusive). Both kinds of vote are here: a
-- support of a proposal (target = its reference) and a home-page vote (target = an
-- integration id); repeats are removed where each kind is counted.
--
-- A join, not a correlated `exists (select … from members where …)`: Spark 4.3's optimizer
-- (PushProjectionThroughUnion) fails with `NoSuchElementException: key not found: member_id`
-- on a correlated subquery over a UNION ALL, which is what a unit test's fixture rows are
-- (SPARK-59042). Every vote stays one row (repeats too): the matches are distinct per
-- (voter, time), and a vote without voter or time matches nothing, as with `exists`.
with votes as (
    select voter, target, voted_at from {{ ref('stg_integration_votes') }}
),

member_vote_times as (
    select distinct votes.voter, votes.voted_at
    from votes
    inner join {{ ref('stg_members') }} as members
        on members.member_id = votes.voter
        and votes.voted_at >= members.member_from
        and (members.member_until is null or votes.voted_at <= members.member_until)
)

select
    votes.voter,
    votes.target,
    votes.voted_at,
    member_vote_times.voter is not null as is_member_vote
from votes
left join member_vote_times
    on member_vote_times.voter = votes.voter
    and member_vote_times.voted_at = votes.voted_at
