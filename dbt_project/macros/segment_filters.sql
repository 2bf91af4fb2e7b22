{#- The segment filter vocabulary: Mautic's segment filters as macros.

    Every filter renders a SQL boolean about one contact, the row `contact` of dim_contacts
    that the `segment` macro (segment_model.sql) selects from, so a segment is filters glued
    with `and` / `or` / `not` and parentheses, as Mautic glues them:

        {% call segment('Hot leads') %}
            {{ points('gte', 40) }}
            and {{ visited_url('/pricing', since='-30 days') }}
        {% endcall %}

    Operators (Mautic's names, or the readable aliases): = (eq, equals), != (neq, not_equals),
    gt (>), gte (>=), lt (<), lte (<=), empty, !empty (not_empty), like, !like (not_like),
    startsWith (starts_with), endsWith (ends_with), contains, regexp, !regexp (not_regexp),
    in, !in (not_in), between, !between (not_between).

    As in Mautic on MySQL: text comparisons ignore case; `like` without a % means "contains";
    the negative operators (!=, !like, !regexp, !in, !between) also match empty values; and
    behaviour filters read the marts (fct_events, fct_email_sends, fct_points_ledger,
    fct_stage_changes) through EXISTS sub-queries, so `not {{ ... }}` negates them safely. -#}


{# ── Operators and literals ──────────────────────────────────────────────────────────────── #}

{#- Mautic's operator name or an alias → the canonical name used below. -#}
{% macro segment_operator(operator) -%}
    {%- set aliases = {
        '=': 'eq', '==': 'eq', 'eq': 'eq', 'equals': 'eq',
        '!=': 'neq', '<>': 'neq', 'neq': 'neq', 'not_equals': 'neq',
        'gt': 'gt', '>': 'gt', 'gte': 'gte', '>=': 'gte',
        'lt': 'lt', '<': 'lt', 'lte': 'lte', '<=': 'lte',
        'empty': 'empty', '!empty': 'not_empty', 'not_empty': 'not_empty',
        'like': 'like', '!like': 'not_like', 'not_like': 'not_like',
        'startswith': 'starts_with', 'starts_with': 'starts_with',
        'endswith': 'ends_with', 'ends_with': 'ends_with',
        'contains': 'contains',
        'regexp': 'regexp', '!regexp': 'not_regexp', 'not_regexp': 'not_regexp',
        'in': 'in', '!in': 'not_in', 'not_in': 'not_in',
        'between': 'between', '!between': 'not_between', 'not_between': 'not_between',
    } -%}
    {%- set key = (operator | string | trim | lower | replace(' ', '_')) -%}
    {%- if key not in aliases -%}
        {{ exceptions.raise_compiler_error(
            "Unknown segment operator '" ~ operator ~ "'; use one of " ~ (aliases.keys() | list | join(', '))
        ) }}
    {%- endif -%}
    {{ return(aliases[key]) }}
{%- endmacro %}


{#- The operator a negative operator negates (neq → eq …), or none for a positive one. -#}
{% macro segment_positive_operator(operator) -%}
    {{ return({
        'neq': 'eq', 'not_like': 'like', 'not_regexp': 'regexp', 'not_in': 'in',
        'not_between': 'between', 'empty': 'not_empty',
    }.get(operator)) }}
{%- endmacro %}


{#- A value as a SQL literal: text quoted (quotes doubled), numbers as they are, booleans as
    true/false, none as null. -#}
{% macro segment_literal(value) -%}
    {%- if value is none -%}null
    {%- elif value is boolean -%}{{ 'true' if value else 'false' }}
    {%- elif value is number -%}{{ value }}
    {%- else -%}{{ sql_string_literal(value) }}
    {%- endif -%}
{%- endmacro %}


{#- A scalar or a list → a list. -#}
{% macro segment_as_list(value) -%}
    {%- if value is none -%}{{ return([]) }}
    {%- elif value is string or value is not iterable -%}{{ return([value]) }}
    {%- else -%}{{ return(value | list) }}
    {%- endif -%}
{%- endmacro %}


{#- "('a', 'b')": values as a parenthesised list of text literals (catalog ids are text). -#}
{% macro segment_text_list(values) -%}
    ({% for value in segment_as_list(values) %}{{ segment_literal(value | string) }}{{ ', ' if not loop.last }}{% endfor %})
{%- endmacro %}


{#- `expression` equal to one of `values` (one or a list), compared as text: "= 'a'" for one,
    "in ('a', 'b')" for more. -#}
{% macro segment_in(expression, values) -%}
    {%- set items = segment_as_list(values) -%}
    {%- if items | length == 1 -%}
        {{ expression }} = {{ segment_literal(items[0] | string) }}
    {%- else -%}
        {{ expression }} in {{ segment_text_list(items) }}
    {%- endif -%}
{%- endmacro %}


{#- A correlated sub-query over `relation` (as `alias`) for the current contact: "exists (…)",
    or "(select <aggregate> …)" when an aggregate is given, with every SQL condition in
    `conditions` anded. -#}
{% macro segment_subquery(relation, alias, conditions, aggregate=none) -%}
    {%- if aggregate is none %}exists {% endif -%}
    (
        select {{ aggregate if aggregate is not none else 1 }} from {{ relation }} as {{ alias }}
        where {{ alias }}.contact_id = contact.contact_id
        {%- for condition in conditions %}
          and {{ condition }}
        {%- endfor %}
    )
{%- endmacro %}


{#- A LIKE pattern that matches `value` literally (%, _ and \ escaped), with `prefix` and
    `suffix` wildcards around it. -#}
{% macro segment_like_pattern(value, prefix='', suffix='') -%}
    {{- sql_string_literal(prefix ~ (value | string | lower | replace("\\", "\\\\") | replace("%", "\\%") | replace("_", "\\_")) ~ suffix) -}}
{%- endmacro %}


{#- Regular-expression match, case-insensitive like MySQL's REGEXP, per engine. -#}
{% macro segment_regexp_matches(expression, pattern) -%}
    {{ return(adapter.dispatch('segment_regexp_matches', 'funnelhouse')(expression, pattern)) }}
{%- endmacro %}

{% macro default__segment_regexp_matches(expression, pattern) -%}
    regexp_matches({{ expression }}, {{ segment_literal(pattern) }}, 'i')
{%- endmacro %}

{% macro spark__segment_regexp_matches(expression, pattern) -%}
    ({{ expression }} rlike {{ segment_literal('(?i)' ~ pattern) }})
{%- endmacro %}

{% macro postgres__segment_regexp_matches(expression, pattern) -%}
    ({{ expression }} ~* {{ segment_literal(pattern) }})
{%- endmacro %}


{#- Text as a number or timestamp, null when it is not one (custom fields are JSON text). -#}
{% macro segment_text_to(expression, type) -%}
    {{ return(adapter.dispatch('segment_text_to', 'funnelhouse')(expression, type)) }}
{%- endmacro %}

{% macro default__segment_text_to(expression, type) -%}
    try_cast({{ expression }} as {{ dbt.type_float() if type == 'number' else dbt.type_timestamp() }})
{%- endmacro %}

{% macro spark__segment_text_to(expression, type) -%}
    cast({{ expression }} as {{ dbt.type_float() if type == 'number' else dbt.type_timestamp() }})
{%- endmacro %}


{#- The type a field filter compares as: the one given, else 'date' for a column named
    *_at / *_on, else from the value (a number, a boolean), else 'text'. -#}
{% macro segment_value_type(name, value, type=none) -%}
    {%- if type is not none -%}
        {%- if type not in ('text', 'number', 'date', 'boolean') -%}
            {{ exceptions.raise_compiler_error("Field type must be text, number, date or boolean; got " ~ type) }}
        {%- endif -%}
        {{ return(type) }}
    {%- endif -%}
    {%- set first = segment_as_list(value)[0] if segment_as_list(value) else none -%}
    {%- if name.endswith('_at') or name.endswith('_on') -%}{{ return('date') }}
    {%- elif first is boolean -%}{{ return('boolean') }}
    {%- elif first is number -%}{{ return('number') }}
    {%- else -%}{{ return('text') }}
    {%- endif -%}
{%- endmacro %}


{#- The core comparison: `expression` <operator> `value`, compared as `type`. -#}
{% macro segment_compare(expression, operator, value=none, type='text') -%}
    {%- set op = segment_operator(operator) -%}
    {%- set positive = segment_positive_operator(op) -%}
    {%- set sql_operators = {'eq': '=', 'gt': '>', 'gte': '>=', 'lt': '<', 'lte': '<='} -%}

    {%- if type == 'date' -%}
        {{ segment_date_condition(expression, op, value) }}

    {%- elif op == 'empty' -%}
        ({{ expression }} is null or cast({{ expression }} as {{ dbt.type_string() }}) = '')

    {%- elif op == 'not_empty' -%}
        ({{ expression }} is not null and cast({{ expression }} as {{ dbt.type_string() }}) <> '')

    {%- elif positive is not none -%}
        {#- Mautic's negative operators also match contacts with nothing in the field. -#}
        (not ({{ segment_compare(expression, positive, value, type) }}) or {{ expression }} is null)

    {%- elif type in ('number', 'boolean') -%}
        {%- if op in sql_operators -%}
            {{ expression }} {{ sql_operators[op] }} {{ segment_literal(value) }}
        {%- elif op == 'in' -%}
            {{ expression }} in ({% for item in segment_as_list(value) %}{{ segment_literal(item) }}{{ ', ' if not loop.last }}{% endfor %})
        {%- elif op == 'between' -%}
            {{ expression }} between {{ segment_literal(value[0]) }} and {{ segment_literal(value[1]) }}
        {%- else -%}
            {{ exceptions.raise_compiler_error("Operator '" ~ operator ~ "' does not apply to a " ~ type) }}
        {%- endif -%}

    {%- else -%}
        {%- set text = 'lower(cast(' ~ expression ~ ' as ' ~ dbt.type_string() ~ '))' -%}
        {%- if op == 'eq' -%}
            {{ text }} = {{ segment_literal(value | string | lower) }}
        {%- elif op in sql_operators -%}
            {{ text }} {{ sql_operators[op] }} {{ segment_literal(value | string | lower) }}
        {%- elif op == 'in' -%}
            {{ text }} in ({% for item in segment_as_list(value) %}{{ segment_literal(item | string | lower) }}{{ ', ' if not loop.last }}{% endfor %})
        {%- elif op == 'between' -%}
            {{ text }} between {{ segment_literal(value[0] | string | lower) }} and {{ segment_literal(value[1] | string | lower) }}
        {%- elif op == 'like' -%}
            {#- Mautic wraps a like value without wildcards in %…% -#}
            {%- set pattern = value | string | lower -%}
            {{ text }} like {{ segment_literal(pattern if '%' in pattern else '%' ~ pattern ~ '%') }}
        {%- elif op == 'starts_with' -%}
            {{ text }} like {{ segment_like_pattern(value, '', '%') }} {{ like_escape() }}
        {%- elif op == 'ends_with' -%}
            {{ text }} like {{ segment_like_pattern(value, '%', '') }} {{ like_escape() }}
        {%- elif op == 'contains' -%}
            {{ text }} like {{ segment_like_pattern(value, '%', '%') }} {{ like_escape() }}
        {%- elif op == 'regexp' -%}
            {{ segment_regexp_matches('cast(' ~ expression ~ ' as ' ~ dbt.type_string() ~ ')', value) }}
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}


{# ── Contact and company fields ──────────────────────────────────────────────────────────── #}

{#- A standard column of dim_contacts: contact_field('country', 'in', ['United Kingdom',
    'Germany']), contact_field('created_at', 'gte', '-90 days'). Columns named *_at / *_on
    compare as dates (absolute or relative); `type` forces text, number, date or boolean. -#}
{% macro contact_field(column, operator, value=none, type=none) -%}
    {%- if not modules.re.match('^[a-z_][a-z0-9_]*$', column) -%}
        {{ exceptions.raise_compiler_error("Not a column name: '" ~ column ~ "'") }}
    {%- endif -%}
    {{ segment_compare('contact.' ~ column, operator, value, segment_value_type(column, value, type)) }}
{%- endmacro %}


{#- A custom field (a key of dim_contacts.custom_fields, JSON): custom_field('industry',
    '=', 'Software'), custom_field('newsletter_optin', '=', '1'). Values are text in JSON, so a
    number or date comparison converts them (null when they do not convert). -#}
{% macro custom_field(key, operator, value=none, type=none) -%}
    {%- if not modules.re.match('^[A-Za-z0-9_]+$', key) -%}
        {{ exceptions.raise_compiler_error("Not a custom field key: '" ~ key ~ "'") }}
    {%- endif -%}
    {%- set field_type = type if type is not none else segment_value_type('', value) -%}
    {%- set expression = json_text('contact.custom_fields', key) -%}
    {%- if field_type in ('number', 'date') -%}
        {%- set expression = segment_text_to(expression, field_type) -%}
    {%- endif -%}
    {{ segment_compare(expression, operator, value, segment_value_type(key, value, field_type)) }}
{%- endmacro %}


{#- A column of the contact's company (dim_companies): company_field('employee_count',
    'gte', 500), company_field('industry', 'in', ['Software', 'E-commerce']). A contact
    without a company has every company field empty (so it matches empty and !=). -#}
{% macro company_field(column, operator, value=none, type=none) -%}
    {%- if not modules.re.match('^[a-z_][a-z0-9_]*$', column) -%}
        {{ exceptions.raise_compiler_error("Not a column name: '" ~ column ~ "'") }}
    {%- endif -%}
    {%- set op = segment_operator(operator) -%}
    {%- set positive = segment_positive_operator(op) -%}
    {%- set field_type = segment_value_type(column, value, type) -%}
    {%- set relation = ref('dim_companies') -%}
    {%- if positive is none -%}
        {{ segment_company_exists(relation, segment_compare('company.' ~ column, op, value, field_type)) }}
    {%- else -%}
        not {{ segment_company_exists(relation, segment_compare('company.' ~ column, positive, value, field_type)) }}
    {%- endif -%}
{%- endmacro %}

{% macro segment_company_exists(relation, condition) -%}
    exists (
        select 1 from {{ relation }} as company
        where company.company_id = contact.company_id
          and {{ condition }}
    )
{%- endmacro %}


{#- Tags: tags('has_any', ['webinar', 'ebook']), tags('has_all', [...]), tags('has_none',
    [...]) (Mautic's "in" / "not in" are has_any / has_none), or tags('empty') /
    tags('not_empty'). dim_contacts.tags is '|a|b|', lower-case. -#}
{% macro tags(operator, values=none) -%}
    {%- set op = (operator | string | lower | replace('!', 'not_')) -%}
    {%- set names = segment_as_list(values) -%}
    {%- set matches = [] -%}
    {%- for name in names -%}
        {%- do matches.append('contact.tags like ' ~ segment_like_pattern(name, '%|', '|%') ~ ' ' ~ like_escape()) -%}
    {%- endfor -%}
    {%- if op in ('empty', 'not_empty') -%}
        contact.tags is {{ 'not ' if op == 'not_empty' }}null
    {%- elif not names -%}
        {{ exceptions.raise_compiler_error("tags('" ~ operator ~ "') needs at least one tag") }}
    {%- elif op in ('has_any', 'any', 'in') -%}
        ({{ matches | join(' or ') }})
    {%- elif op in ('has_all', 'all') -%}
        ({{ matches | join(' and ') }})
    {%- elif op in ('has_none', 'none', 'not_in') -%}
        (contact.tags is null or not ({{ matches | join(' or ') }}))
    {%- else -%}
        {{ exceptions.raise_compiler_error("tags operator must be has_any, has_all, has_none, empty or not_empty; got " ~ operator) }}
    {%- endif -%}
{%- endmacro %}


{#- Do-not-contact status of a channel ('email' or 'sms'): do_not_contact('email'), with a
    reason ('unsubscribed', 'bounced', 'manual'; one or a list), or is_dnc=false for the
    contacts who may be contacted on it. -#}
{% macro do_not_contact(channel='email', reason=none, is_dnc=true) -%}
    {%- if channel not in ('email', 'sms') -%}
        {{ exceptions.raise_compiler_error("do_not_contact channel must be 'email' or 'sms'; got " ~ channel) }}
    {%- endif -%}
    {%- set flag = 'contact.is_dnc_' ~ channel -%}
    {%- if is_dnc -%}
        ({{ flag }}
        {%- if reason is not none %} and {{ segment_compare('contact.dnc_' ~ channel ~ '_reason', 'in', segment_as_list(reason)) }}{% endif -%}
        )
    {%- else -%}
        not {{ flag }}
    {%- endif -%}
{%- endmacro %}


{#- Current points: points('gte', 40) reads dim_contacts.points; with a `group` (a point
    group of the ledger) and/or a window (since/until, on when the points were given), the
    sum of the matching fct_points_ledger deltas (0 when there are none). -#}
{% macro points(operator, value, group=none, since=none, until=none) -%}
    {%- if group is none and since is none and until is none -%}
        {{ segment_compare('contact.points', operator, value, 'number') }}
    {%- else -%}
        {%- set conditions = [] if group is none else [segment_in('ledger.point_group', group)] -%}
        {%- set total = 'coalesce(' ~ segment_subquery(ref('fct_points_ledger'), 'ledger',
            conditions + segment_window('ledger.occurred_at', since, until), 'sum(ledger.delta)') ~ ', 0)' -%}
        {{ segment_compare(total, operator, value, 'number') }}
    {%- endif -%}
{%- endmacro %}


{#- Current stage: stage('=', 'mql') or stage('in', ['mql', 'sql']) match the stage id or
    name (any case); stage('gte', 'mql') compares stage order with the named stage's (from
    the `stages` seed); a number compares stage_order itself (stage('gte', 3)); empty means
    no stage yet. -#}
{% macro stage(operator, value=none) -%}
    {%- set op = segment_operator(operator) -%}
    {%- set first = segment_as_list(value)[0] if segment_as_list(value) else none -%}
    {%- if op in ('empty', 'not_empty') -%}
        contact.stage_id is {{ 'not ' if op == 'not_empty' }}null
    {%- elif first is number -%}
        {{ segment_compare('contact.stage_order', op, value, 'number') }}
    {%- elif op in ('gt', 'gte', 'lt', 'lte') -%}
        contact.stage_order {{ {'gt': '>', 'gte': '>=', 'lt': '<', 'lte': '<='}[op] }} (
            select max(stages.stage_order) from {{ ref('stages') }} as stages
            where lower(stages.stage_id) = {{ segment_literal(value | lower) }}
               or lower(stages.name) = {{ segment_literal(value | lower) }}
        )
    {%- elif op in ('eq', 'in', 'neq', 'not_in') -%}
        {%- set positive = 'in' if op in ('eq', 'in') else 'not_in' -%}
        {%- if positive == 'in' -%}
            ({{ segment_compare('contact.stage_id', 'in', value) }} or {{ segment_compare('contact.stage_name', 'in', value) }})
        {%- else -%}
            ({{ segment_compare('contact.stage_id', 'not_in', value) }} and {{ segment_compare('contact.stage_name', 'not_in', value) }})
        {%- endif -%}
    {%- else -%}
        {{ exceptions.raise_compiler_error("stage operator must be =, !=, in, !in, gt, gte, lt, lte, empty or !empty; got " ~ operator) }}
    {%- endif -%}
{%- endmacro %}


{#- Last activity (dim_contacts.last_active_at, what the contact did, not what was sent to
    them): last_active('within', '-30 days') = active on or after that day;
    last_active('not_within', '-60 days') = last active before it. Contacts never active
    count as not within only with include_never=true. -#}
{% macro last_active(operator, since, include_never=false) -%}
    {%- set op = operator | string | lower | replace('!', 'not_') -%}
    {%- if op == 'within' -%}
        {{ segment_date_condition('contact.last_active_at', 'gte', since) }}
    {%- elif op == 'not_within' -%}
        ({{ segment_date_condition('contact.last_active_at', 'lt', since) }}
        {%- if include_never %} or contact.last_active_at is null{% endif %})
    {%- else -%}
        {{ exceptions.raise_compiler_error("last_active operator must be 'within' or 'not_within'; got " ~ operator) }}
    {%- endif -%}
{%- endmacro %}


{#- Source of the contact's first web session (dim_contacts.first_source / first_medium /
    first_campaign, from fct_sessions): first_touch(source='google', medium='cpc'). Each given
    value (one or a list) must match, ignoring case. -#}
{% macro first_touch(source=none, medium=none, campaign=none) -%}
    {%- set conditions = [] -%}
    {%- for column, value in [('first_source', source), ('first_medium', medium), ('first_campaign', campaign)] -%}
        {%- if value is not none -%}
            {%- do conditions.append(segment_compare('contact.' ~ column, 'in', segment_as_list(value))) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if not conditions -%}
        {{ exceptions.raise_compiler_error("first_touch needs a source, medium or campaign") }}
    {%- endif -%}
    ({{ conditions | join(' and ') }})
{%- endmacro %}


{# ── Behaviour (events in a time window) ─────────────────────────────────────────────────── #}

{#- The contact has an event of `event_types` (one or a list) matching every SQL condition
    in `conditions` (on the alias `event`), within since/until. The building block of the
    behaviour filters below, and a filter itself: performed_event('focus_click', since='-7
    days'). -#}
{% macro performed_event(event_types, conditions=[], since=none, until=none) -%}
    {{ segment_subquery(
        ref('fct_events'), 'event',
        [segment_in('event.event_type', event_types)] + segment_as_list(conditions)
            + segment_window('event.occurred_at', since, until)
    ) }}
{%- endmacro %}


{#- Visited a page whose URL matches: visited_url('/pricing', since='-30 days') (operator
    contains by default; any text operator: '=', 'starts_with', 'like', 'regexp' …). -#}
{% macro visited_url(url, operator='contains', since=none, until=none) -%}
    {{ performed_event('page_hit', [segment_compare('event.url', operator, url)], since, until) }}
{%- endmacro %}


{#- Number of page hits compared with `count`: page_hits('gte', 10, since='-30 days'),
    optionally only hits on URLs matching `url` (with `url_operator`, contains by default). -#}
{% macro page_hits(operator, count, url=none, url_operator='contains', since=none, until=none) -%}
    {%- set conditions = ["event.event_type = 'page_hit'"] -%}
    {%- if url is not none -%}
        {%- do conditions.append(segment_compare('event.url', url_operator, url)) -%}
    {%- endif -%}
    {%- set hits = segment_subquery(ref('fct_events'), 'event',
        conditions + segment_window('event.occurred_at', since, until), 'count(*)') -%}
    {{ segment_compare(hits, operator, count, 'number') }}
{%- endmacro %}


{#- The email id condition of the email filters: any email, or one id or a list of ids. -#}
{% macro segment_email_condition(email_id) -%}
    {%- if email_id is none -%}{{ return([]) }}{%- endif -%}
    {{ return([segment_in('event.email_id', email_id)]) }}
{%- endmacro %}


{#- Was sent an email (any, or the given id or ids) within the window. -#}
{% macro received_email(email_id=none, since=none, until=none) -%}
    {{ performed_event('email_sent', segment_email_condition(email_id), since, until) }}
{%- endmacro %}


{#- Opened an email (any, or the given id or ids) within the window; a click counts as an
    open, as the open pixel is often blocked (fct_email_sends counts it the same way). -#}
{% macro opened_email(email_id=none, since=none, until=none) -%}
    {{ performed_event(['email_open', 'email_click'], segment_email_condition(email_id), since, until) }}
{%- endmacro %}


{#- Clicked a link in an email (any, or the given id or ids) within the window, optionally a
    link whose URL contains `link`. -#}
{% macro clicked_email(email_id=none, link=none, since=none, until=none) -%}
    {%- set conditions = segment_email_condition(email_id) -%}
    {%- if link is not none -%}
        {%- do conditions.append(segment_compare('event.link_url', 'contains', link)) -%}
    {%- endif -%}
    {{ performed_event('email_click', conditions, since, until) }}
{%- endmacro %}


{#- Did not open: was sent the email (any, or the given id or ids) within the window and
    opened none of those emails within it. Contacts sent nothing in the window are not in it
    (they could not open anything): combine `not received_email(...)` for those. -#}
{% macro did_not_open_email(email_id=none, since=none, until=none) -%}
    ({{ received_email(email_id, since, until) }}
    and not {{ opened_email(email_id, since, until) }})
{%- endmacro %}


{#- Submitted a form (any, or the given id or ids) within the window. -#}
{% macro submitted_form(form_id=none, since=none, until=none) -%}
    {%- set conditions = [] if form_id is none else [segment_in('event.form_id', form_id)] -%}
    {{ performed_event('form_submit', conditions, since, until) }}
{%- endmacro %}


{#- Downloaded an asset (any, or the given id or ids) within the window. -#}
{% macro downloaded_asset(asset_id=none, since=none, until=none) -%}
    {%- set conditions = [] if asset_id is none else [segment_in('event.asset_id', asset_id)] -%}
    {{ performed_event('asset_download', conditions, since, until) }}
{%- endmacro %}


{#- Arrived with UTM tags within the window (any event carrying them, as Mautic keeps every
    UTM set a contact brought): utm(source='linkedin', medium='social', since='-90 days').
    Each given tag (one or a list) must match, ignoring case. -#}
{% macro utm(source=none, medium=none, campaign=none, term=none, content=none, since=none, until=none) -%}
    {%- set conditions = [] -%}
    {%- for column, value in [('utm_source', source), ('utm_medium', medium), ('utm_campaign', campaign), ('utm_term', term), ('utm_content', content)] -%}
        {%- if value is not none -%}
            {%- do conditions.append(segment_compare('event.' ~ column, 'in', segment_as_list(value))) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if not conditions -%}
        {{ exceptions.raise_compiler_error("utm needs at least one of source, medium, campaign, term, content") }}
    {%- endif -%}
    {{ segment_subquery(ref('fct_events'), 'event', conditions + segment_window('event.occurred_at', since, until)) }}
{%- endmacro %}


{#- Entered a stage (id or name, one or a list) within the window (fct_stage_changes). -#}
{% macro reached_stage(stage, since=none, until=none) -%}
    {%- set names = segment_as_list(stage) -%}
    {%- set matches_stage -%}
        ({{ segment_compare('stage_change.stage_id', 'in', names) }} or {{ segment_compare('stage_change.stage_name', 'in', names) }})
    {%- endset -%}
    {{ segment_subquery(ref('fct_stage_changes'), 'stage_change',
        [matches_stage] + segment_window('stage_change.changed_at', since, until)) }}
{%- endmacro %}


{# ── Other segments ──────────────────────────────────────────────────────────────────────── #}

{#- Member of any of the given segments (ids, one or a list), as built in this run. -#}
{% macro in_segment(segment_ids) -%}
    {%- set checks = [] -%}
    {%- for segment_id in segment_as_list(segment_ids) -%}
        {%- set check = segment_subquery(ref('seg_' ~ segment_id), 'other_segment', []) -%}
        {%- do checks.append(check) -%}
    {%- endfor -%}
    {%- if not checks -%}
        {{ exceptions.raise_compiler_error("in_segment needs at least one segment id") }}
    {%- endif -%}
    ({{ checks | join(' or ') }})
{%- endmacro %}


{#- Member of none of the given segments. -#}
{% macro not_in_segment(segment_ids) -%}
    not {{ in_segment(segment_ids) }}
{%- endmacro %}
