{#- Generic data tests for the report models (models/reports/rpt_*). -#}


{#- No two rows share the values of `columns` (a list): the model's grain, e.g. one row per
    day and email. Rows with a null in a key column count too (nulls group together), so a
    key column with nulls also fails when two rows collide on it. -#}
{% test report_unique_combination(model, columns) %}
select {{ columns | join(', ') }}, count(*) as occurrences
from {{ model }}
group by {{ columns | join(', ') }}
having count(*) > 1
{% endtest %}


{#- A count: never null, never negative. One query where not_null and report_accepted_range
    would be two: the reports have well over a hundred count columns, and every test is a node
    of each run's build. -#}
{% test report_count(model, column_name) %}
select {{ column_name }}
from {{ model }}
where {{ column_name }} is null or {{ column_name }} < 0
{% endtest %}


{#- Every non-null value of the column lies within [min_value, max_value] (either bound may
    be left out): rates in 0..1, counts not negative. -#}
{% test report_accepted_range(model, column_name, min_value=none, max_value=none) %}
select {{ column_name }}
from {{ model }}
where {{ column_name }} is not null
  and (
    1 = 0
    {%- if min_value is not none %} or {{ column_name }} < {{ min_value }}{% endif %}
    {%- if max_value is not none %} or {{ column_name }} > {{ max_value }}{% endif %}
  )
{% endtest %}
