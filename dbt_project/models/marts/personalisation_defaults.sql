-- What a visitor nobody knows sees in every dynamic content slot and focus placement: the
-- default rule (no segment, no field) with the lowest priority, then rule_id.
with rules as (
    {{ personalisation_rules_with_items() }}
),

ranked as (
    select
        *,
        row_number() over (partition by kind, slot order by priority, rule_id) as rule_rank
    from rules
    where is_default
)

select
    kind,
    slot,
    rule_id,
    item_id,
    priority,
    item_name,
    variant,
    content,
    url,
    style,
    focus_type
from ranked
where rule_rank = 1
