-- Enterprise contacts: work at a company of 5,000 employees or more.
{% call segment('Enterprise contacts') %}
    {{ company_field('employee_count', 'gte', 5000) }}
{% endcall %}
