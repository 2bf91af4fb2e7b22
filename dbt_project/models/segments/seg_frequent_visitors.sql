-- Frequent visitors: ten page views or more in the last 30 days.
{% call segment('Frequent visitors (30 days)') %}
    {{ page_hits('gte', 10, since='-30 days') }}
{% endcall %}
