-- Newsletter non-openers: were sent a newsletter in the last 30 days and opened none.
{% set newsletters = [4, 6, 7, 8, 9, 11, 12] %}
{% call segment('Newsletter non-openers (30 days)') %}
    {{ did_not_open_email(newsletters, since='-30 days') }}
    and {{ do_not_contact('email', is_dnc=false) }}
{% endcall %}
