-- New in the UK and Germany: contacts from either country created in the last 90 days.
{% call segment('New contacts: UK & Germany (90 days)') %}
    {{ contact_field('country', 'in', ['United Kingdom', 'Germany']) }}
    and {{ contact_field('created_at', 'gte', '-90 days') }}
{% endcall %}
