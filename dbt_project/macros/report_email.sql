{#- The email counts and rates shared by the email reports (per email, per day and email, per
    send hour), so every report defines "open rate" the same way. -#}


{#- Aggregates over fct_email_sends rows (one per email sent to a contact). -#}
{% macro report_email_counts(sends='sends') -%}
    count(*) as sent,
    count(case when {{ sends }}.is_delivered then 1 end) as delivered,
    count(case when {{ sends }}.is_bounced then 1 end) as bounced,
    count(case when {{ sends }}.is_hard_bounced then 1 end) as hard_bounced,
    count(case when {{ sends }}.is_opened then 1 end) as unique_opens,
    count(case when {{ sends }}.is_clicked then 1 end) as unique_clicks,
    count(case when {{ sends }}.is_unsubscribed then 1 end) as unsubscribed,
    cast(sum({{ sends }}.open_count) as {{ dbt.type_bigint() }}) as total_opens,
    cast(sum({{ sends }}.click_count) as {{ dbt.type_bigint() }}) as total_clicks
{%- endmacro %}


{#- Rates from the columns report_email_counts makes (null when the denominator is 0). -#}
{% macro report_email_rates(counts='counts') -%}
    {{ report_ratio(counts ~ '.delivered', counts ~ '.sent') }} as delivery_rate,
    {{ report_ratio(counts ~ '.unique_opens', counts ~ '.delivered') }} as open_rate,
    {{ report_ratio(counts ~ '.unique_clicks', counts ~ '.delivered') }} as click_rate,
    {{ report_ratio(counts ~ '.unique_clicks', counts ~ '.unique_opens') }} as click_to_open_rate,
    {{ report_ratio(counts ~ '.bounced', counts ~ '.sent') }} as bounce_rate,
    {{ report_ratio(counts ~ '.unsubscribed', counts ~ '.delivered') }} as unsubscribe_rate
{%- endmacro %}


{#- Column names of report_email_counts then report_email_rates, for select lists. -#}
{% macro report_email_columns(counts='counts') -%}
    {%- for column in ['sent', 'delivered', 'bounced', 'hard_bounced', 'unique_opens',
                       'unique_clicks', 'unsubscribed', 'total_opens', 'total_clicks'] %}
    coalesce({{ counts }}.{{ column }}, 0) as {{ column }},
    {%- endfor %}
    {{ report_email_rates(counts) }}
{%- endmacro %}
