-- Points given and taken per day and rule: which point actions drive scores. One row per
-- (day, entry_type, rule_id, point_group) in fct_points_ledger; a social monitor's points have
-- its monitor_id as rule_id, manual adjustments '(manual)'. points is the net change; points_awarded / points_deducted split it
-- into positive and negative entries.
with ledger as (
    select
        occurred_on as day,
        entry_type,
        coalesce(rule_id, monitor_id, '(' || entry_type || ')') as rule_id,
        coalesce(point_group, 'default') as point_group,
        contact_id,
        delta
    from {{ ref('fct_points_ledger') }}
    where entry_type <> 'reset'
),

grouped as (
    select
        day,
        entry_type,
        rule_id,
        point_group,
        count(*) as entries,
        count(distinct contact_id) as contacts,
        cast(sum(delta) as {{ dbt.type_bigint() }}) as points,
        cast(sum(case when delta > 0 then delta else 0 end) as {{ dbt.type_bigint() }}) as points_awarded,
        cast(sum(case when delta < 0 then delta else 0 end) as {{ dbt.type_bigint() }}) as points_deducted
    from ledger
    group by day, entry_type, rule_id, point_group
)

select
    grouped.day,
    grouped.entry_type,
    grouped.rule_id,
    case
        when grouped.entry_type = 'manual' then 'Manual adjustment'
        when grouped.entry_type = 'monitor' then 'Social monitor: ' || coalesce(monitors.name, grouped.rule_id)
        when grouped.entry_type = 'decay'
            then 'Expired: ' || coalesce(rules.name, monitors.name, grouped.rule_id)
        else coalesce(rules.name, grouped.rule_id)
    end as rule_name,
    grouped.point_group,
    grouped.entries,
    grouped.contacts,
    grouped.points,
    grouped.points_awarded,
    grouped.points_deducted
from grouped
left join {{ ref('point_rules') }} as rules on grouped.rule_id = rules.rule_id
left join {{ ref('social_monitors') }} as monitors on grouped.rule_id = monitors.monitor_id
