{#- Campaign macros: the raw campaign tables, time zones and send windows, idempotency keys,
    contact fields for conditions. The campaign models are documented in
    models/marts/_campaigns.yml; the YAML format in campaigns/README.md. -#}


{#- Columns of the raw campaign tables (ingest/campaigns.py writes them), as (name, type). -#}
{% macro campaign_raw_columns(table) -%}
    {%- set text = dbt.type_string() -%}
    {%- set ts = dbt.type_timestamp() -%}
    {%- set int = dbt.type_int() -%}
    {%- set bool = dbt.type_boolean() -%}
    {%- set meta = [('_source', text), ('_loaded_at', ts)] -%}
    {%- set tables = {
        'campaign_definitions': [
            ('campaign_id', text), ('name', text), ('description', text), ('kind', text),
            ('is_published', bool), ('allow_restart', bool), ('exit_on_segment_leave', bool),
            ('entry_from', ts), ('entry_lookback_minutes', int), ('entry_until', ts),
            ('default_timezone', text), ('step_count', int), ('definition', text),
            ('content_hash', text), ('published_at', ts),
        ],
        'campaign_sources': [('campaign_id', text), ('source_type', text), ('source_id', text)],
        'campaign_steps': [
            ('campaign_id', text), ('step_id', text), ('step_order', int), ('step_type', text),
            ('step_kind', text), ('description', text), ('parent_step_id', text),
            ('parent_branch', text), ('depth', int), ('wait_minutes', int), ('run_at', ts),
            ('window_days', text), ('window_start_minute', int), ('window_end_minute', int),
            ('channel', text), ('payload_ref', text), ('email_id', text), ('sms_id', text),
            ('params', text), ('within_minutes', int), ('match_id', text), ('match_url', text),
            ('condition_field', text), ('condition_operator', text), ('condition_value', text),
        ],
        'campaign_step_paths': [
            ('campaign_id', text), ('ancestor_step_id', text), ('step_id', text),
            ('branch', text), ('distance', int),
        ],
    } -%}
    {{ return(tables[table] + meta) }}
{%- endmacro %}


{#- A typed relation with no rows: "(select cast(null as t) as c, … where 1 = 0)". -#}
{% macro campaign_empty_relation(columns) -%}
    (select
        {%- for name, type in columns %}
        cast(null as {{ type }}) as {{ name }}{{ ',' if not loop.last }}
        {%- endfor %}
    where 1 = 0)
{%- endmacro %}


{#- A raw campaign table, or an empty one of the same columns when the warehouse has none yet
    (ingest never loaded campaign definitions): a home without campaigns builds, with no
    campaign rows. The source() call keeps the lineage either way. -#}
{% macro campaign_raw_table(table) -%}
    {%- set relation = source('raw', table) -%}
    {%- if execute and model.resource_type != 'unit_test' -%}
        {%- set found = adapter.get_relation(
            database=relation.database, schema=relation.schema, identifier=relation.identifier) -%}
        {%- if found is none -%}
            {{ return(campaign_empty_relation(campaign_raw_columns(table))) }}
        {%- endif -%}
    {%- endif -%}
    {{ return(relation) }}
{%- endmacro %}


{#- ref(name), except in a unit test that does not give it as an input: then an empty
    relation of `columns`. Models outside the campaign folders (segments, stages) read campaign
    models through it, so their unit tests need no campaign inputs. -#}
{% macro campaign_optional_ref(name, columns) -%}
    {%- if execute and model.resource_type == 'unit_test'
        and ('model.' ~ project_name ~ '.' ~ name) not in model.depends_on.nodes -%}
        {{ return(campaign_empty_relation(columns)) }}
    {%- endif -%}
    {{ return(ref(name)) }}
{%- endmacro %}


{#- Columns of int_campaign_actions_applied, for campaign_optional_ref. -#}
{% macro campaign_applied_columns() -%}
    {%- set text = dbt.type_string() -%}
    {{ return([
        ('event_id', text), ('contact_id', text), ('campaign_id', text), ('step_id', text),
        ('action', text), ('target_id', text), ('occurred_at', dbt.type_timestamp()),
        ('loaded_at', dbt.type_timestamp()),
    ]) }}
{%- endmacro %}


{#- The idempotency key of one action for one entry of a contact: the same due action always
    gets the same key, in every build. -#}
{% macro campaign_key(campaign_id, step_id, contact_id, entry_number) -%}
    {{ dbt.hash(dbt.concat([
        campaign_id, "':'", step_id, "':'", contact_id, "':'",
        'cast(' ~ entry_number ~ ' as ' ~ dbt.type_string() ~ ')',
    ])) }}
{%- endmacro %}


{#- Time zones: a UTC timestamp as wall-clock time in `tz`, and back. -#}
{% macro campaign_to_local(utc, tz) -%}
    {{ return(adapter.dispatch('campaign_to_local', 'funnelhouse')(utc, tz)) }}
{%- endmacro %}

{% macro default__campaign_to_local(utc, tz) -%}
    timezone({{ tz }}, timezone('UTC', {{ utc }}))
{%- endmacro %}

{% macro postgres__campaign_to_local(utc, tz) -%}
    (({{ utc }}) at time zone 'UTC' at time zone {{ tz }})
{%- endmacro %}

{% macro spark__campaign_to_local(utc, tz) -%}
    from_utc_timestamp({{ utc }}, {{ tz }})
{%- endmacro %}

{% macro campaign_from_local(local, tz) -%}
    {{ return(adapter.dispatch('campaign_from_local', 'funnelhouse')(local, tz)) }}
{%- endmacro %}

{% macro default__campaign_from_local(local, tz) -%}
    timezone('UTC', timezone({{ tz }}, {{ local }}))
{%- endmacro %}

{% macro postgres__campaign_from_local(local, tz) -%}
    (({{ local }}) at time zone {{ tz }} at time zone 'UTC')
{%- endmacro %}

{% macro spark__campaign_from_local(local, tz) -%}
    to_utc_timestamp({{ local }}, {{ tz }})
{%- endmacro %}


{#- The time zone names the engine knows (a contact's unknown zone falls back to the
    campaign's). -#}
{% macro campaign_known_timezones() -%}
    {{ return(adapter.dispatch('campaign_known_timezones', 'funnelhouse')()) }}
{%- endmacro %}

{% macro default__campaign_known_timezones() -%}
    select name as timezone_name from pg_timezone_names()
{%- endmacro %}

{% macro postgres__campaign_known_timezones() -%}
    select name as timezone_name from pg_timezone_names
{%- endmacro %}

{#- Spark lists no time zones in SQL: the IANA names (pytz, in dbt's Jinja context), which
    Spark's java.time resolves. -#}
{% macro spark__campaign_known_timezones() -%}
    select timezone_name from values
        {%- for name in modules.pytz.all_timezones %} ('{{ name }}'){{ ',' if not loop.last }}{% endfor %}
        as known(timezone_name)
{%- endmacro %}


{#- ISO day of the week (Monday 1 … Sunday 7) of a timestamp, an integer. -#}
{% macro campaign_isodow(ts) -%}
    {{ return(adapter.dispatch('campaign_isodow', 'funnelhouse')(ts)) }}
{%- endmacro %}

{% macro default__campaign_isodow(ts) -%}
    cast(extract(isodow from {{ ts }}) as {{ dbt.type_int() }})
{%- endmacro %}

{% macro spark__campaign_isodow(ts) -%}
    cast(extract(dayofweek_iso from {{ ts }}) as {{ dbt.type_int() }})
{%- endmacro %}


{#- How many days after `local`'s day (wall-clock time) the send window next opens: 0 when
    it is still open (or opens later) today, else the first of the next seven days that is one
    of `days` ('|1|2|3|4|5|', ISO weekdays; null = every day). `dow` is local's ISO weekday
    (1-7) and `minute` its minutes after midnight; `end_minute` closes the window. -#}
{% macro campaign_window_day_offset(dow, minute, days, end_minute) -%}
    case
    {%- for k in range(8) %}
        when ({{ days }} is null or {{ days }} like {{ dbt.concat([
            "'%|'", 'cast(mod(' ~ dow ~ ' + ' ~ (k + 6) ~ ', 7) + 1 as ' ~ dbt.type_string() ~ ')', "'|%'",
        ]) }})
        {%- if k == 0 %} and {{ minute }} < coalesce({{ end_minute }}, 1440){% endif %} then {{ k }}
    {%- endfor %}
        else 0
    end
{%- endmacro %}


{#- The text of a contact field for a field_value condition: a dim_contacts column (the list
    ingest/campaigns.py accepts, CONTACT_FIELDS) or `custom.<key>` from custom_fields. -#}
{% macro campaign_contact_field(contact, field) -%}
    {%- set fields = [
        'email', 'title', 'first_name', 'last_name', 'job_title', 'company_name', 'phone',
        'mobile', 'city', 'state', 'zip_code', 'country', 'timezone', 'preferred_locale',
        'preferred_channel', 'tags', 'points', 'stage_id', 'stage_name',
    ] -%}
    case
    {%- for name in fields %}
        when {{ field }} = '{{ name }}' then cast({{ contact }}.{{ name }} as {{ dbt.type_string() }})
    {%- endfor %}
        when {{ field }} like 'custom.%'
        then {{ campaign_json_text_at(contact ~ '.custom_fields', dbt.concat(["'$.'", 'substr(' ~ field ~ ', 8)'])) }}
    end
{%- endmacro %}


{#- Text at a JSON path given as an expression (json_text takes a literal key). -#}
{% macro campaign_json_text_at(column, path) -%}
    {{ return(adapter.dispatch('campaign_json_text_at', 'funnelhouse')(column, path)) }}
{%- endmacro %}

{% macro default__campaign_json_text_at(column, path) -%}
    json_extract_string({{ column }}, {{ path }})
{%- endmacro %}

{% macro spark__campaign_json_text_at(column, path) -%}
    get_json_object({{ column }}, {{ path }})
{%- endmacro %}


{#- A field_value condition: `value` (text) compared with the condition's operator and value
    (text; for in / not_in a '|a|b|' list). Text compares ignoring case; gt/gte/lt/lte compare
    numbers. Negative operators also hold for an empty field, as in segment filters. -#}
{% macro campaign_field_matches(value, operator, expected) -%}
    {%- set text = 'lower(' ~ value ~ ')' -%}
    {%- set wanted = 'lower(' ~ expected ~ ')' -%}
    {%- set number = segment_text_to(value, 'number') -%}
    {%- set wanted_number = segment_text_to(expected, 'number') -%}
    case {{ operator }}
        when 'eq' then coalesce({{ text }} = {{ wanted }}, false)
        when 'neq' then coalesce({{ text }} <> {{ wanted }}, true)
        when 'in' then coalesce({{ wanted }} like {{ dbt.concat(["'%|'", text, "'|%'"]) }}, false)
        when 'not_in' then coalesce(not ({{ wanted }} like {{ dbt.concat(["'%|'", text, "'|%'"]) }}), true)
        when 'contains' then coalesce({{ dbt.position(wanted, text) }} > 0, false)
        when 'starts_with' then coalesce({{ dbt.position(wanted, text) }} = 1, false)
        when 'ends_with' then coalesce({{ dbt.right(text, dbt.length(wanted)) }} = {{ wanted }}, false)
        when 'empty' then ({{ value }} is null or {{ value }} = '')
        when 'not_empty' then ({{ value }} is not null and {{ value }} <> '')
        when 'gt' then coalesce({{ number }} > {{ wanted_number }}, false)
        when 'gte' then coalesce({{ number }} >= {{ wanted_number }}, false)
        when 'lt' then coalesce({{ number }} < {{ wanted_number }}, false)
        when 'lte' then coalesce({{ number }} <= {{ wanted_number }}, false)
        else false
    end
{%- endmacro %}


{#- Whether fct_campaign_steps writes each level of its walk to a table of its own before the
    final select (true) or computes the levels as CTEs of one statement (false). DuckDB: CTEs
    (`as materialized`, each computed once). Spark has no materialized CTE: it inlines a CTE at
    every reference, and a level is read twice within the next (by its decision hits and by its
    judgement), so the plan of one statement doubles with every level (depth 6 ran out of a
    1 GiB driver, 12 never finished). Each level as a Parquet table reads the level above as a
    plain scan: every level is computed once. Unit tests keep the CTEs (their inputs are CTEs
    of the test's own statement, which a separate statement cannot see). -#}
{% macro campaign_levels_as_tables() -%}
    {{ return(adapter.dispatch('campaign_levels_as_tables', 'funnelhouse')()) }}
{%- endmacro %}

{% macro default__campaign_levels_as_tables() -%}
    {{ return(false) }}
{%- endmacro %}

{% macro spark__campaign_levels_as_tables() -%}
    {{ return(model.resource_type != 'unit_test') }}
{%- endmacro %}


{#- The table of one level of the walk (`<model>__level_<n>`), or of one of the inputs the
    levels read (`<model>__level_<name>`), beside the model. -#}
{% macro campaign_level_relation(level) -%}
    {{ return(this.incorporate(path={'identifier': this.identifier ~ '__level_' ~ level})) }}
{%- endmacro %}


{#- The names of the tables campaign_write_level writes: the levels' inputs and each level. -#}
{% macro campaign_level_names() -%}
    {%- set names = ['steps', 'entries', 'results', 'evidence', 'decision_events', 'condition_results'] %}
    {{ return(names + range(var('campaign_max_depth', 12) | int) | list) }}
{%- endmacro %}


{#- Write one level (a select) to its table, replacing the last build's: only when the model is
    built (run, build), not when it is only compiled (compile, docs generate, show). -#}
{% macro campaign_write_level(level, sql) -%}
    {%- if execute and flags.WHICH in ('run', 'build') %}
        {%- set relation = campaign_level_relation(level) %}
        {%- do run_query('drop table if exists ' ~ relation) %}
        {%- do run_query('create table ' ~ relation ~ ' using parquet as\n' ~ sql) %}
    {%- endif %}
{%- endmacro %}


{#- The model's post-hook: drop the level tables once the model is built (nothing to do when
    the levels were CTEs). -#}
{% macro campaign_drop_level_tables() -%}
    {%- if execute and flags.WHICH in ('run', 'build') and campaign_levels_as_tables() %}
        {%- for level in campaign_level_names() %}
            {%- do run_query('drop table if exists ' ~ campaign_level_relation(level)) %}
        {%- endfor %}
    {%- endif %}
{%- endmacro %}


{#- A step deeper than the engine walks (var campaign_max_depth) would never run. -#}
{% test campaign_below_max_depth(model, column_name) %}
select {{ column_name }}
from {{ model }}
where {{ column_name }} >= {{ var('campaign_max_depth', 12) }}
{% endtest %}


{#- No queued send goes to a contact on the channel's do-not-contact list. -#}
{% test campaign_queue_respects_dnc(model) %}
{%- set contacts = campaign_relation_of('dim_contacts') %}
with queue as (
    select idempotency_key, channel, contact_id from {{ model }}
)

select queue.idempotency_key, queue.channel, queue.contact_id
from queue
{%- if contacts is not none %}
inner join {{ contacts }} as contacts on queue.contact_id = contacts.contact_id
where (queue.channel = 'email' and contacts.is_dnc_email)
   or (queue.channel = 'sms' and contacts.is_dnc_sms)
{%- else %}
where 1 = 0
{%- endif %}
{% endtest %}


{#- The relation of a model or seed of this project, found in dbt's graph rather than through
    ref(): a campaign test that reads a shared model (dim_contacts, stages, the catalogs) must
    not become a child of it, or every partial build that selects that model (dbt's eager
    indirect selection) would run the campaign test without the campaign models. None when it
    is not built in this warehouse. -#}
{% macro campaign_relation_of(name) -%}
    {%- if not execute -%}{{ return(none) }}{%- endif -%}
    {%- for kind in ['model', 'seed'] -%}
        {%- set node = graph.nodes.get(kind ~ '.' ~ project_name ~ '.' ~ name) -%}
        {%- if node -%}
            {{ return(adapter.get_relation(
                database=node.database, schema=node.schema, identifier=node.alias)) }}
        {%- endif -%}
    {%- endfor -%}
    {{ exceptions.raise_compiler_error("No model or seed named '" ~ name ~ "'") }}
{%- endmacro %}


{#- Every non-null value of the column is a `field` of `to` (a shared model or seed, looked up
    without ref(): see campaign_relation_of; nothing to check when it is not built). -#}
{% test campaign_refers_to(model, column_name, to, field) %}
{%- set parent = campaign_relation_of(to) %}
with child as (
    select {{ column_name }} as value from {{ model }} where {{ column_name }} is not null
)

select child.value
from child
{%- if parent is not none %}
where not exists (
    select 1 from {{ parent }} as parent where parent.{{ field }} = child.value
)
{%- else %}
where 1 = 0
{%- endif %}
{% endtest %}
