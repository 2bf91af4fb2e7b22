{#- Personalisation rules (seeds/personalisation_rules.csv): which dim_contacts columns a rule
    may test, how its operator compares, and the rules joined to the items they show. -#}


{#- The dim_contacts columns a rule's `field` may name. A rule's field is looked up in this
    list by a CASE (personalisation_field_value), so no SQL is ever built from seed text. -#}
{% macro personalisation_fields() -%}
    {{ return([
        'email', 'job_title', 'company_name', 'city', 'state', 'country', 'timezone',
        'preferred_locale', 'tags', 'points', 'stage_id', 'stage_order', 'preferred_channel',
        'is_dnc_email', 'is_dnc_sms', 'page_views', 'form_submissions', 'email_opens',
        'email_clicks', 'first_source', 'first_medium', 'first_campaign', 'is_imported',
    ]) }}
{%- endmacro %}


{#- The value of the whitelisted column named by `field` (a SQL expression) for the row
    `contact`, as lower-cased text; null for a field not in the list. -#}
{% macro personalisation_field_value(field, contact) -%}
    case {{ field }}
        {%- for name in personalisation_fields() %}
        when '{{ name }}' then lower(cast({{ contact }}.{{ name }} as {{ dbt.type_string() }}))
        {%- endfor %}
    end
{%- endmacro %}


{#- Whether `actual` (lower-cased text, may be null) satisfies `operator` with `expected`
    (lower-cased text): never null. Like the segment filters, neq also matches empty values;
    gte/lte compare numerically when both sides are numbers, else as text. -#}
{% macro personalisation_condition(operator, actual, expected) -%}
    {%- set actual_number = segment_text_to(actual, 'number') -%}
    {%- set expected_number = segment_text_to(expected, 'number') -%}
    coalesce(case {{ operator }}
        when 'eq' then {{ actual }} = {{ expected }}
        when 'neq' then coalesce({{ actual }} <> {{ expected }}, true)
        when 'in' then {{ dbt.position("'|' || " ~ actual ~ " || '|'", "'|' || " ~ expected ~ " || '|'") }} > 0
        when 'contains' then {{ dbt.position(expected, actual) }} > 0
        when 'gte' then case
            when {{ actual_number }} is not null and {{ expected_number }} is not null
                then {{ actual_number }} >= {{ expected_number }}
            else {{ actual }} >= {{ expected }}
        end
        when 'lte' then case
            when {{ actual_number }} is not null and {{ expected_number }} is not null
                then {{ actual_number }} <= {{ expected_number }}
            else {{ actual }} <= {{ expected }}
        end
        when 'empty' then coalesce(trim({{ actual }}), '') = ''
        when 'not_empty' then coalesce(trim({{ actual }}), '') <> ''
    end, false)
{%- endmacro %}


{#- The rules whose item is in its catalog and published, with the item's payload: the
    columns personalisation_assignments and personalisation_defaults publish. -#}
{% macro personalisation_rules_with_items() -%}
    with items as (
        select
            'dynamic_content' as kind,
            dynamic_content_id as item_id,
            name as item_name,
            variant,
            content,
            cast(null as {{ dbt.type_string() }}) as url,
            cast(null as {{ dbt.type_string() }}) as style,
            cast(null as {{ dbt.type_string() }}) as focus_type,
            is_published
        from {{ ref('dim_dynamic_content') }}
        union all
        select
            'focus' as kind,
            focus_item_id as item_id,
            name as item_name,
            cast(null as {{ dbt.type_string() }}) as variant,
            cast(null as {{ dbt.type_string() }}) as content,
            url,
            style,
            focus_type,
            is_published
        from {{ ref('dim_focus_items') }}
    )

    select
        rules.rule_id,
        rules.kind,
        rules.slot,
        rules.priority,
        rules.item_id,
        rules.segment,
        rules.field,
        rules.operator,
        rules.value,
        rules.is_default,
        items.item_name,
        items.variant,
        items.content,
        items.url,
        items.style,
        items.focus_type
    from {{ ref('stg_personalisation_rules') }} as rules
    inner join items on rules.kind = items.kind and rules.item_id = items.item_id
    where items.is_published  -- an unpublished item is shown to nobody, as in Mautic
{%- endmacro %}
