-- Signup anniversary: became a contact on this day of an earlier year.
{% call segment('Signup anniversary') %}
    {{ contact_field('created_at', '=', 'anniversary') }}
    and {{ contact_field('created_at', 'lt', 'this year') }}
{% endcall %}
