-- Webinar registrants: submitted the webinar registration form (5), or tagged webinar in the CRM.
{% call segment('Webinar registrants') %}
    {{ submitted_form(5) }}
    or {{ tags('has_any', ['webinar']) }}
{% endcall %}
