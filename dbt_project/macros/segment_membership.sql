{#- Finding the segments: every model tagged `segment` (models/segments/ has the tag in
    dbt_project.yml), read from dbt's `graph` when the model runs, never from a list.

    dbt learns a model's parents while parsing, before `graph` exists, so the models that read
    the segments (segment_history, segment_membership) also call segment_registry()
    (segment_registry.sql), whose refs tell dbt to build every segment first. segment_union()
    checks the two agree and stops the build, naming the model and the line to add, when a
    segment model is missing from the registry. -#}


{#- The unique ids of the segment models of this project, sorted: the models tagged `segment`
    in dbt's graph ([] while parsing). A unit test gets no graph from dbt, so there they are
    the tested model's parents named seg_* (its unit test gives each of them rows). -#}
{% macro segment_models() -%}
    {%- set found = [] -%}
    {%- if execute -%}
        {%- set nodes = graph.get('nodes', {}) -%}
        {%- if nodes -%}
            {%- for node in nodes.values() -%}
                {%- if node.resource_type == 'model'
                    and node.package_name == project_name
                    and 'segment' in node.tags -%}
                    {%- do found.append(node.unique_id) -%}
                {%- endif -%}
            {%- endfor -%}
        {%- elif model.resource_type == 'unit_test' -%}
            {%- for unique_id in model.depends_on.nodes -%}
                {%- if unique_id.startswith('model.' ~ project_name ~ '.seg_') -%}
                    {%- do found.append(unique_id) -%}
                {%- endif -%}
            {%- endfor -%}
        {%- endif -%}
    {%- endif -%}
    {{ return(found | sort) }}
{%- endmacro %}


{#- The ids of the segments in this project ("select 'a' as segment_id union all …"): the
    segments a build evaluated, also those with no member. -#}
{% macro segment_ids_query() -%}
    {%- set nodes = segment_models() -%}
    {%- if nodes -%}
        {%- for unique_id in nodes %}
    select {{ segment_literal(segment_id_of(unique_id.split('.')[-1])) }} as segment_id
            {%- if not loop.last %} union all{% endif %}
        {%- endfor %}
    {%- else %}
    select cast(null as {{ dbt.type_string() }}) as segment_id where 1 = 0
    {%- endif %}
{%- endmacro %}


{#- Every segment's members, as the segment models just built them: segment_id,
    segment_name, contact_id, matched_by, matched_at. -#}
{% macro segment_union() -%}
    {%- set nodes = segment_models() -%}
    {%- for unique_id in nodes -%}
        {%- if unique_id not in model.depends_on.nodes -%}
            {%- set name = unique_id.split('.')[-1] -%}
            {{ exceptions.raise_compiler_error(
                "Segment model '" ~ name ~ "' is not in segment_registry() "
                ~ "(macros/segment_registry.sql), so dbt would not build it before " ~ model.name
                ~ ". Add this line there: -- depends_on: {{ ref('" ~ name ~ "') }}"
            ) }}
        {%- endif -%}
    {%- endfor -%}
    {%- if nodes -%}
        {%- for unique_id in nodes %}
    select segment_id, segment_name, contact_id, matched_by, matched_at
    from {{ ref(unique_id.split('.')[-1]) }}
            {%- if not loop.last %}
    union all{% endif %}
        {%- endfor %}
    {%- else %}
    select
        cast(null as {{ dbt.type_string() }}) as segment_id,
        cast(null as {{ dbt.type_string() }}) as segment_name,
        cast(null as {{ dbt.type_string() }}) as contact_id,
        cast(null as {{ dbt.type_string() }}) as matched_by,
        {{ segment_reference_time() }} as matched_at
    where 1 = 0
    {%- endif %}
{%- endmacro %}
