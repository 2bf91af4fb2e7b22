-- The contacts with the most points: the top `report_leaderboard_size` (var, default 100)
-- contacts with more than 0 points, one row each, ranked by points (ties: most recently
-- active first, then contact id, so leaderboard_rank is unique; points_rank gives tied
-- contacts the same rank). top_point_group is the point group that gave the contact most
-- points (fct_points_ledger).
with contacts as (
    select * from {{ ref('dim_contacts') }} where points > 0
),

group_points as (
    select
        contact_id,
        point_group,
        sum(delta) as points,
        row_number() over (
            partition by contact_id order by sum(delta) desc, point_group
        ) as group_rank
    from {{ ref('fct_points_ledger') }}
    where entry_type <> 'reset'
    group by contact_id, point_group
),

ranked as (
    select
        contacts.*,
        row_number() over (
            order by
                contacts.points desc,
                coalesce(contacts.last_active_at, cast('1900-01-01' as {{ dbt.type_timestamp() }})) desc,
                contacts.contact_id
        ) as leaderboard_rank,
        rank() over (order by contacts.points desc) as points_rank
    from contacts
)

select
    ranked.leaderboard_rank,
    ranked.points_rank,
    ranked.contact_id,
    ranked.email,
    ranked.first_name,
    ranked.last_name,
    ranked.company_id,
    ranked.company_name,
    ranked.points,
    ranked.stage_name,
    group_points.point_group as top_point_group,
    cast(group_points.points as {{ dbt.type_bigint() }}) as top_point_group_points,
    ranked.last_active_at
from ranked
left join group_points
    on ranked.contact_id = group_points.contact_id and group_points.group_rank = 1
where ranked.leaderboard_rank <= {{ var('report_leaderboard_size', 100) }}
