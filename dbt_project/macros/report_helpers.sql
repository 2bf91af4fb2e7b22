{#- Helpers for the report models (models/reports/rpt_*): ratios, medians, calendar days and
    send-time parts, written with dbt's cross-database macros so the reports stay portable. -#}


{#- numerator / denominator as a decimal fraction; null when the denominator is 0 or null
    (a rate of nothing is unknown, not zero). -#}
{% macro report_ratio(numerator, denominator) -%}
    {{ return(adapter.dispatch('report_ratio', 'funnelhouse')(numerator, denominator)) }}
{%- endmacro %}

{% macro default__report_ratio(numerator, denominator) -%}
    (({{ numerator }}) * 1.0 / nullif(({{ denominator }}), 0))
{%- endmacro %}

{#- Spark divides decimals into a rounded decimal: a double, as DuckDB's division gives. -#}
{% macro spark__report_ratio(numerator, denominator) -%}
    (cast(({{ numerator }}) as double) / nullif(({{ denominator }}), 0))
{%- endmacro %}


{#- The median of an expression, as an aggregate (nulls ignored). -#}
{% macro report_median(expression) -%}
    {{ return(adapter.dispatch('report_median', 'funnelhouse')(expression)) }}
{%- endmacro %}

{% macro default__report_median(expression) -%}
    percentile_cont(0.5) within group (order by {{ expression }})
{%- endmacro %}

{% macro spark__report_median(expression) -%}
    percentile({{ expression }}, 0.5)
{%- endmacro %}


{#- Days (fractional) from one timestamp to another. -#}
{% macro report_days_between(start_at, end_at) -%}
    ({{ dbt.datediff(start_at, end_at, 'second') }} / 86400.0)
{%- endmacro %}


{#- ISO weekday of a timestamp or date: 1 = Monday … 7 = Sunday, counted from Monday
    1900-01-01 (no engine-specific day-of-week numbering). -#}
{% macro report_weekday(timestamp) -%}
    (mod({{ dbt.datediff("cast('1900-01-01' as date)", timestamp, 'day') }}, 7) + 1)
{%- endmacro %}


{#- The English name of an ISO weekday number (1 = Monday). -#}
{% macro report_weekday_name(weekday) -%}
    case {{ weekday }}
        when 1 then 'Monday' when 2 then 'Tuesday' when 3 then 'Wednesday'
        when 4 then 'Thursday' when 5 then 'Friday' when 6 then 'Saturday'
        when 7 then 'Sunday'
    end
{%- endmacro %}


{#- Hour of the day (0–23) of a timestamp. -#}
{% macro report_hour(timestamp) -%}
    {{ dbt.datediff(dbt.date_trunc('day', timestamp), timestamp, 'hour') }}
{%- endmacro %}


{#- A query of one row per calendar day from `start_date` to `end_date` (both included;
    SQL expressions such as scalar subqueries), as column `day` (date). Made from a
    cross join of digits (up to 100,000 days) so that it needs no engine's series function
    and no query at compile time (dbt.date_spine runs one, which unit tests cannot). -#}
{% macro report_day_spine(start_date, end_date) -%}
    {%- set digits -%}
        (select 0 as d union all select 1 union all select 2 union all select 3
         union all select 4 union all select 5 union all select 6 union all select 7
         union all select 8 union all select 9)
    {%- endset -%}
    select cast({{ dbt.dateadd('day', 'day_offset', 'cast(' ~ start_date ~ ' as date)') }} as date) as day
    from (
        select d0.d + 10 * d1.d + 100 * d2.d + 1000 * d3.d + 10000 * d4.d as day_offset
        from {{ digits }} as d0
        cross join {{ digits }} as d1
        cross join {{ digits }} as d2
        cross join {{ digits }} as d3
        cross join {{ digits }} as d4
    ) as offsets
    where day_offset <= {{ dbt.datediff('cast(' ~ start_date ~ ' as date)', 'cast(' ~ end_date ~ ' as date)', 'day') }}
{%- endmacro %}


{#- Event types done to a contact rather than by it (sends, deliveries, bounces, DNC changes,
    manual points, campaign actions activation reported), as a SQL list: they do not make a
    contact active. -#}
{% macro passive_event_types() -%}
    ('email_sent', 'email_delivered', 'email_bounce', 'sms_sent', 'sms_delivered', 'sms_failed', 'dnc_change', 'manual_points', 'campaign_action')
{%- endmacro %}


{#- Whether an event is an identify call a campaign's update_field action wrote (activation
    marks it source 'campaign'): done to the contact, not by it. Never null. -#}
{% macro is_campaign_write(event_type='event_type', properties='properties') -%}
    coalesce({{ event_type }} = 'identify' and {{ json_text(properties, 'source') }} = 'campaign', false)
{%- endmacro %}
