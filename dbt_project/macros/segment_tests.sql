{#- Generic data tests for the segment models and marts. -#}


{#- No two rows share the values of `columns` (a list): e.g. one row per segment and contact. -#}
{% test segment_unique_combination(model, columns) %}
select {{ columns | join(', ') }}, count(*) as occurrences
from {{ model }}
group by {{ columns | join(', ') }}
having count(*) > 1
{% endtest %}


{#- Every value of the column names a segment of this project (a model tagged `segment`,
    id = its name without `seg_`), so a typo in the manual membership seed fails the build
    instead of silently doing nothing. -#}
{% test segment_id_exists(model, column_name) %}
select {{ column_name }}
from {{ model }}
where {{ column_name }} is not null
  and {{ column_name }} not in (
    {{ segment_ids_query() }}
  )
{% endtest %}
