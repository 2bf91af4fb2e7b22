{#- Every segment model, once, as a "-- depends_on:" line.

    dbt learns a model's parents while parsing, before `graph` exists, so these refs are how it
    knows to build every segment before segment_history and segment_membership, which render
    this macro at their top. Which segments those two read comes from `graph` at run time
    (segment_union in segment_membership.sql); a segment model missing here stops the build
    with the line to add. Adding a segment: its model in models/segments/, its entry in
    _segments.yml, its line here, and an empty input for it (`rows: []`) in the unit tests of
    models/marts/_segments_marts.yml (dbt wants every parent of a unit-tested model given). -#}
{% macro segment_registry() -%}
    -- depends_on: {{ ref('seg_email_dnc') }}
    -- depends_on: {{ ref('seg_enterprise_contacts') }}
    -- depends_on: {{ ref('seg_frequent_visitors') }}
    -- depends_on: {{ ref('seg_hot_leads') }}
    -- depends_on: {{ ref('seg_integration_notice_due') }}
    -- depends_on: {{ ref('seg_linkedin_responders') }}
    -- depends_on: {{ ref('seg_newsletter_engaged') }}
    -- depends_on: {{ ref('seg_newsletter_non_openers') }}
    -- depends_on: {{ ref('seg_newly_qualified') }}
    -- depends_on: {{ ref('seg_nurture') }}
    -- depends_on: {{ ref('seg_paid_search_first_touch') }}
    -- depends_on: {{ ref('seg_playbook_downloaders') }}
    -- depends_on: {{ ref('seg_reengagement') }}
    -- depends_on: {{ ref('seg_sales_ready') }}
    -- depends_on: {{ ref('seg_signup_anniversary') }}
    -- depends_on: {{ ref('seg_social_mentioners') }}
    -- depends_on: {{ ref('seg_uk_de_new') }}
    -- depends_on: {{ ref('seg_webinar_registrants') }}
{%- endmacro %}
