{#- Social monitoring's segment filter (the desk, issue 12): the contact wrote a monitored
    post (fct_social_mentions) within since/until: mentioned_us(since='-30 days'). With
    `segment`, only posts matched by a monitor that feeds that segment (social_monitors'
    segment_id); with `monitor`, only that monitor's posts. Authors not (yet) known as a
    contact by email are not contacts of dim_contacts, so no segment holds them. -#}
{% macro mentioned_us(since=none, until=none, segment=none, monitor=none) -%}
    {%- set conditions = segment_window('mention.posted_at', since, until) -%}
    {%- if segment is not none or monitor is not none -%}
        {%- set hit_conditions = ['hit.mention_id = mention.mention_id'] -%}
        {%- if segment is not none -%}
            {%- do hit_conditions.append('hit.segment_id = ' ~ segment_literal(segment)) -%}
        {%- endif -%}
        {%- if monitor is not none -%}
            {%- do hit_conditions.append('hit.monitor_id = ' ~ segment_literal(monitor)) -%}
        {%- endif -%}
        {%- do conditions.append(
            'exists (select 1 from ' ~ ref('fct_social_monitor_hits') ~ ' as hit where '
            ~ hit_conditions | join(' and ') ~ ')'
        ) -%}
    {%- endif -%}
    {{ segment_subquery(ref('fct_social_mentions'), 'mention', conditions) }}
{%- endmacro %}
