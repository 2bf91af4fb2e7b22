-- Newsletter engaged: opted in to the newsletter, opened an email in the last 30 days and
-- can still be emailed.
{% call segment('Newsletter engaged') %}
    {{ custom_field('newsletter_optin', '=', '1') }}
    and {{ opened_email(since='-30 days') }}
    and {{ do_not_contact('email', is_dnc=false) }}
{% endcall %}
