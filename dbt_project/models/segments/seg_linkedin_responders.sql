-- LinkedIn responders: arrived through a LinkedIn campaign link in the last 90 days.
{% call segment('LinkedIn campaign responders (90 days)') %}
    {{ utm(source='linkedin', since='-90 days') }}
{% endcall %}
