-- Nurture: read our content (playbook or webinar) but are not hot leads, customers or
-- blocked for email yet — a segment of segments.
{% call segment('Nurture: content readers') %}
    {{ in_segment(['playbook_downloaders', 'webinar_registrants']) }}
    and {{ not_in_segment(['hot_leads', 'email_dnc']) }}
    and {{ tags('has_none', ['customer']) }}
{% endcall %}
