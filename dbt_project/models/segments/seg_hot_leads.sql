-- Hot leads: 40 points or more, and looked at pricing in the last 30 days (the page, or a
-- pricing link in an email).
{% call segment('Hot leads') %}
    {{ points('gte', 40) }}
    and (
        {{ visited_url('/pricing', since='-30 days') }}
        or {{ clicked_email(link='/pricing', since='-30 days') }}
    )
{% endcall %}
