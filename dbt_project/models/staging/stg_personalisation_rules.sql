-- The personalisation rules seed, typed and tidied: empty cells as null, kind, operator,
-- field and segment lower-cased (they name things), value lower-cased too since rules
-- compare as text ignoring case, and an `in` list without spaces around its `|`.
with rules as (
    select
        trim(rule_id) as rule_id,
        lower(trim(kind)) as kind,
        trim(slot) as slot,
        cast(priority as integer) as priority,
        trim(cast(item_id as {{ dbt.type_string() }})) as item_id,
        lower(nullif(trim(segment), '')) as segment,
        lower(nullif(trim(field), '')) as field,
        lower(nullif(trim(operator), '')) as operator,
        lower(nullif(trim(value), '')) as value,
        description
    from {{ ref('personalisation_rules') }}
)

select
    rule_id,
    kind,
    slot,
    priority,
    item_id,
    segment,
    field,
    operator,
    case
        when operator = 'in' then replace(replace(value, ' |', '|'), '| ', '|')
        else value
    end as value,
    segment is null and field is null as is_default,
    description
from rules
