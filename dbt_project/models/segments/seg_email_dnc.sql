-- Email do-not-contact: unsubscribed, hard-bounced or manually blocked for email.
{% call segment('Email do-not-contact') %}
    {{ do_not_contact('email') }}
{% endcall %}
