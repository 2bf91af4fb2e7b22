{#- Data tests for the big incremental tables. Their rows carry `built_at`, the start of the
    dbt invocation that wrote them (`build_time()`); these tests check the rows the latest
    build wrote against the whole table, rather than every row of every table on every run: a
    plain `unique` over tens of millions of event ids is among a build's costliest steps. On a
    full refresh every row is new, so everything is checked. -#}

{#- The start of this dbt invocation, as a timestamp: a model's `built_at`. -#}
{% macro build_time() -%}
    cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S.%f") }}' as {{ dbt.type_timestamp() }})
{%- endmacro %}

{% macro _latest_build(model) -%}
    (select max(built_at) from {{ model }})
{%- endmacro %}


{#- No value the latest build wrote to the column occurs twice in the whole table. On a
    `--full-refresh` the latest build wrote every row, so the test is a plain group-by: matching
    the whole table against itself first would double its cost (14 s against 7 s for 44M
    event ids). -#}
{% test unique_where_built(model, column_name) %}
{%- if flags.FULL_REFRESH %}
select {{ column_name }}, count(*) as occurrences
from {{ model }}
where {{ column_name }} is not null
group by {{ column_name }}
having count(*) > 1
{%- else %}
with written as (
    select {{ column_name }} as value
    from {{ model }}
    where built_at = {{ _latest_build(model) }}
)

select {{ column_name }}, count(*) as occurrences
from {{ model }}
where {{ column_name }} in (select value from written)
group by {{ column_name }}
having count(*) > 1
{%- endif %}
{% endtest %}


{#- Every non-null value the latest build wrote to the column exists in `to`.`field`. -#}
{% test relationships_where_built(model, column_name, to, field) %}
select child.{{ column_name }}
from (select * from {{ model }}) as child  -- (a `where` config makes the model a subquery)
left join {{ to }} as parent on child.{{ column_name }} = parent.{{ field }}
where child.built_at = {{ _latest_build(model) }}
  and child.{{ column_name }} is not null
  and parent.{{ field }} is null
{% endtest %}
