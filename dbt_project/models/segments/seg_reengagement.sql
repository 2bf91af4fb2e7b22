-- Re-engagement: active once, but not in the last 60 days, and still emailable.
{% call segment('Re-engagement: inactive 60 days') %}
    {{ last_active('not_within', '-60 days') }}
    and {{ do_not_contact('email', is_dnc=false) }}
{% endcall %}
