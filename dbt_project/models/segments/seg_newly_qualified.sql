-- Newly qualified: reached the Marketing Qualified or Sales Qualified stage in the last 30 days.
{% call segment('Newly qualified (30 days)') %}
    {{ reached_stage(['mql', 'sql'], since='-30 days') }}
{% endcall %}
