{#- One segment = one model in models/segments/ named seg_<segment_id>, whose body is a call
    of this macro around its filters (segment_filters.sql):

        {% call segment('Hot leads') %}
            {{ points('gte', 40) }}
            and {{ visited_url('/pricing', since='-30 days') }}
        {% endcall %}

    Output, one row per member: segment_id, segment_name, contact_id, matched_by ('filters',
    'manual' or 'both'), matched_at (the reference time the filters were evaluated at). The
    members are the contacts of dim_contacts (alias `contact`) that match the filters, plus
    the segment's manual includes, minus its manual excludes (seed
    segment_manual_membership), as in Mautic: an exclude beats the filters and an include,
    an include adds a contact the filters miss. -#}
{% macro segment(name) -%}
    {%- set segment_id = segment_id_of(segment_model_name()) -%}
with matched_by_filters as (
    select contact.contact_id
    from {{ ref('dim_contacts') }} as contact
    where
{{ segment_dedent(caller(), 8) }}
),

{{ segment_manual_ctes(segment_id) }},

candidates as (
    select contact_id, 'filters' as matched_by from matched_by_filters
    union all
    select contact_id, 'manual' as matched_by from manual where action = 'include'
)

select
    {{ segment_literal(segment_id) }} as segment_id,
    {{ segment_literal(name) }} as segment_name,
    candidates.contact_id,
    case
        when min(candidates.matched_by) = max(candidates.matched_by) then min(candidates.matched_by)
        else 'both'
    end as matched_by,
    {{ segment_reference_time() }} as matched_at
from candidates
where not exists (
    select 1 from manual
    where manual.action = 'exclude' and manual.contact_id = candidates.contact_id
)
group by candidates.contact_id
{%- endmacro %}


{#- `text` without its common leading indentation and outer blank lines, indented by `width`
    (the filters of a segment model, laid out under the compiled WHERE). -#}
{% macro segment_dedent(text, width) -%}
    {%- set lines = (text | string).split('\n') -%}
    {%- set kept = [] -%}
    {%- set widths = [] -%}
    {%- for line in lines -%}
        {%- if line | trim -%}
            {%- do widths.append(line | length - line.lstrip() | length) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- set margin = widths | min if widths else 0 -%}
    {%- for line in lines -%}
        {%- if kept or line | trim -%}
            {%- do kept.append((' ' * width ~ line[margin:]) if line | trim else '') -%}
        {%- endif -%}
    {%- endfor -%}
    {{ (kept | join('\n')).rstrip() }}
{%- endmacro %}


{#- The name of the model being built; in a unit test, the name of the model it tests. -#}
{% macro segment_model_name() -%}
    {%- if model.resource_type == 'unit_test' -%}
        {{ return(model.tested_node_unique_id.split('.')[-1]) }}
    {%- endif -%}
    {{ return(model.name) }}
{%- endmacro %}


{#- A segment's id from its model's name: seg_hot_leads → hot_leads. The id is what the manual
    membership seed, in_segment() and the marts use, so renaming the model renames the
    segment. -#}
{% macro segment_id_of(model_name) -%}
    {%- if not model_name.startswith('seg_') or model_name | length < 5 -%}
        {{ exceptions.raise_compiler_error(
            "Segment models are named seg_<segment_id>; '" ~ model_name ~ "' is not"
        ) }}
    {%- endif -%}
    {{ return(model_name[4:]) }}
{%- endmacro %}


{#- Three CTEs: `manual_actions`, the segment's rows of the manual membership seed in effect
    at the reference time (added_at not later); `campaign_actions`, the campaigns'
    add_to_segment / remove_from_segment actions on it that activation carried out by then
    (int_campaign_actions_applied; the latest per contact); and `manual` (contact_id, action),
    both resolved to known contacts — seed rows by contact_id, else by email (trimmed,
    lower-cased), campaign actions as includes and excludes. Rows for contacts not in
    dim_contacts resolve to nothing. A unit test of a segment that does not give
    int_campaign_actions_applied reads no campaign actions. -#}
{% macro segment_manual_ctes(segment_id) -%}
manual_actions as (
    select
        nullif(trim(contact_id), '') as contact_id,
        lower(trim(email)) as email,
        lower(trim(action)) as action
    from {{ ref('segment_manual_membership') }}
    where segment_id = {{ segment_literal(segment_id) }}
      and (added_at is null or added_at <= {{ segment_reference_time() }})
),

-- campaigns' add_to_segment / remove_from_segment that activation carried out: the latest
-- per contact counts, as an include or an exclude
campaign_actions as (
    select
        contact_id,
        case when action = 'add_to_segment' then 'include' else 'exclude' end as action,
        row_number() over (
            partition by contact_id order by occurred_at desc, event_id desc
        ) as from_latest
    from {{ campaign_optional_ref('int_campaign_actions_applied', campaign_applied_columns()) }} as applied
    where target_id = {{ segment_literal(segment_id) }}
      and action in ('add_to_segment', 'remove_from_segment')
      and occurred_at <= {{ segment_reference_time() }}
),

manual as (
    select known.contact_id, manual_actions.action
    from manual_actions
    inner join {{ ref('dim_contacts') }} as known on manual_actions.contact_id = known.contact_id
    union
    select known.contact_id, manual_actions.action
    from manual_actions
    inner join {{ ref('dim_contacts') }} as known on manual_actions.email = known.email
    where manual_actions.contact_id is null
    union
    select known.contact_id, campaign_actions.action
    from campaign_actions
    inner join {{ ref('dim_contacts') }} as known on campaign_actions.contact_id = known.contact_id
    where campaign_actions.from_latest = 1
)
{%- endmacro %}
