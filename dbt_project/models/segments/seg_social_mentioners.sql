-- Social mentioners: contacts who mentioned @funnelhouse or posted #funnelhouse (the
-- monitors that feed this segment in seeds/social_monitors.csv) in the last 30 days.
{% call segment('Social mentioners') %}
    {{ mentioned_us(since='-30 days', segment='social_mentioners') }}
{% endcall %}
