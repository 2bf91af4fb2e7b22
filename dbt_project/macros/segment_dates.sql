{#- Dates in segment filters, absolute or relative, as Mautic writes them.

    Every relative date resolves against one reference time per run: the var
    `segment_reference_time` when set (tests and replays pin it), else the environment variable
    FUNNELHOUSE_SEGMENT_REFERENCE_TIME (a whole `funnelhouse run`), else the time the dbt run
    started (UTC) — the same instant for every segment of the run, so two segments built a
    few seconds apart never disagree about what "today" is.

    A date value names an interval [start, end):
      'YYYY-MM-DD'                       that whole day
      'YYYY-MM-DD HH:MM[:SS]'            that instant (start = end)
      'now'                              the reference time itself (an instant)
      'today' | 'yesterday' | 'tomorrow' that whole day
      'this|last|next day|week|month|quarter|year'
                                         that whole calendar period (weeks start on Monday)
      '-7 days', '+1 month', '-2 weeks'  the whole day that far from the reference time
      '-6 hours', '+30 minutes'          that instant
    and the operators compare against it: = inside, != outside (or empty), gt after it, gte
    from its start, lt before it, lte up to its end, between from the first's start to the
    second's end. So `gte '-30 days'` is "on or after the day 30 days ago" and `lt 'this
    month'` is "before the 1st of this month". 'anniversary' (alias 'birthday') matches the
    same month and day as the reference date, in any year. -#}


{#- The reference time as a SQL timestamp literal. -#}
{% macro segment_reference_time() -%}
    {%- set pinned = var('segment_reference_time', none) -%}
    {%- if pinned is none or (pinned | string | trim) == '' -%}
        {#- Or pinned for a whole `funnelhouse run` (Dagster passes no --vars). -#}
        {%- set pinned = env_var('FUNNELHOUSE_SEGMENT_REFERENCE_TIME', '') -%}
    {%- endif -%}
    {%- if (pinned | string | trim) == '' -%}
        {%- set pinned = run_started_at.strftime('%Y-%m-%d %H:%M:%S') -%}
    {%- endif -%}
    {%- set pinned = pinned | string | trim -%}
    {%- if not modules.re.match('^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?$', pinned) -%}
        {{ exceptions.raise_compiler_error(
            "var segment_reference_time must look like 'YYYY-MM-DD[ HH:MM[:SS]]', got '" ~ pinned ~ "'"
        ) }}
    {%- endif -%}
    cast('{{ pinned | replace("T", " ") }}' as {{ dbt.type_timestamp() }})
{%- endmacro %}


{#- A SQL expression on one line (dbt's date macros render with line breaks). -#}
{% macro segment_squash(sql) -%}
    {{ return(modules.re.sub('\\s+', ' ', sql | string | trim)) }}
{%- endmacro %}


{#- The interval a date value names: {'start': sql, 'end': sql or none}. `end` is none for an
    instant. Raises a compiler error naming the accepted forms for anything else. -#}
{% macro segment_date_bounds(value) -%}
    {%- set re = modules.re -%}
    {%- set reference = segment_reference_time() -%}
    {%- set text = value | string | trim | lower -%}
    {%- set today = segment_squash(dbt.date_trunc('day', reference)) -%}
    {%- set day_offsets = {'yesterday': -1, 'today': 0, 'tomorrow': 1} -%}
    {%- set period_offsets = {'last': -1, 'this': 0, 'next': 1} -%}
    {%- set period = re.match('^(this|last|next)\s+(day|week|month|quarter|year)$', text) -%}
    {%- set shift = re.match('^([+-])\s*(\d+)\s*(minute|hour|day|week|month|quarter|year)s?$', text) -%}

    {%- if text == 'now' -%}
        {{ return({'start': reference, 'end': none}) }}

    {%- elif text in day_offsets -%}
        {%- set offset = day_offsets[text] -%}
        {{ return({
            'start': segment_squash(dbt.dateadd('day', offset, today)),
            'end': segment_squash(dbt.dateadd('day', offset + 1, today)),
        }) }}

    {%- elif period -%}
        {%- set offset = period_offsets[period.group(1)] -%}
        {%- set unit = period.group(2) -%}
        {%- set period_start = segment_squash(dbt.date_trunc(unit, reference)) -%}
        {{ return({
            'start': segment_squash(dbt.dateadd(unit, offset, period_start)),
            'end': segment_squash(dbt.dateadd(unit, offset + 1, period_start)),
        }) }}

    {%- elif shift -%}
        {%- set amount = (shift.group(2) | int) * (-1 if shift.group(1) == '-' else 1) -%}
        {%- set unit = shift.group(3) -%}
        {%- if unit in ('minute', 'hour') -%}
            {{ return({'start': segment_squash(dbt.dateadd(unit, amount, reference)), 'end': none}) }}
        {%- else -%}
            {%- set day = segment_squash(dbt.date_trunc('day', dbt.dateadd(unit, amount, reference))) -%}
            {{ return({'start': day, 'end': segment_squash(dbt.dateadd('day', 1, day))}) }}
        {%- endif -%}

    {%- elif re.match('^\d{4}-\d{2}-\d{2}$', text) -%}
        {%- set day = "cast('" ~ text ~ "' as " ~ dbt.type_timestamp() ~ ")" -%}
        {{ return({'start': day, 'end': segment_squash(dbt.dateadd('day', 1, day))}) }}

    {%- elif re.match('^\d{4}-\d{2}-\d{2}[ t]\d{2}:\d{2}(:\d{2}(\.\d+)?)?$', text) -%}
        {{ return({
            'start': "cast('" ~ (text | replace('t', ' ')) ~ "' as " ~ dbt.type_timestamp() ~ ")",
            'end': none,
        }) }}

    {%- else -%}
        {{ exceptions.raise_compiler_error(
            "Segment date '" ~ value ~ "' is not one of: 'YYYY-MM-DD', 'YYYY-MM-DD HH:MM[:SS]', "
            ~ "'now', 'today', 'yesterday', 'tomorrow', 'this|last|next day|week|month|quarter|year', "
            ~ "'+N|-N minutes|hours|days|weeks|months|quarters|years', 'anniversary'"
        ) }}
    {%- endif -%}
{%- endmacro %}


{#- A date comparison: `expression` (a timestamp or date) against a date value with one of
    the normalised operators (see segment_operator). -#}
{% macro segment_date_condition(expression, operator, value) -%}
    {%- set text = value | string | trim | lower if value is string else '' -%}

    {%- if operator in ('empty', 'not_empty') -%}
        {{ expression }} is {{ 'not ' if operator == 'not_empty' }}null

    {%- elif text in ('anniversary', 'birthday') -%}
        {%- set reference = segment_reference_time() -%}
        {%- set same_day -%}
            (extract(month from {{ expression }}) = extract(month from {{ reference }})
             and extract(day from {{ expression }}) = extract(day from {{ reference }}))
        {%- endset -%}
        {%- if operator == 'eq' -%}{{ same_day }}
        {%- elif operator == 'neq' -%}(not {{ same_day }} or {{ expression }} is null)
        {%- else -%}
            {{ exceptions.raise_compiler_error("'" ~ value ~ "' only works with = and !=, not " ~ operator) }}
        {%- endif -%}

    {%- elif operator in ('between', 'not_between') -%}
        {%- if value is string or value is not iterable or (value | length) != 2 -%}
            {{ exceptions.raise_compiler_error("between needs two dates, [from, to]; got " ~ value) }}
        {%- endif -%}
        {%- set low = segment_date_bounds(value[0]) -%}
        {%- set high = segment_date_bounds(value[1]) -%}
        {%- set inside -%}
            ({{ expression }} >= {{ low.start }} and {{ expression }}
             {%- if high.end is none %} <= {{ high.start }}{% else %} < {{ high.end }}{% endif %})
        {%- endset -%}
        {%- if operator == 'between' -%}{{ inside }}
        {%- else -%}(not {{ inside }} or {{ expression }} is null)
        {%- endif -%}

    {%- elif operator in ('eq', 'neq', 'gt', 'gte', 'lt', 'lte') -%}
        {%- set bounds = segment_date_bounds(value) -%}
        {%- if bounds.end is none -%}
            {%- set sql_operator = {'eq': '=', 'neq': '<>', 'gt': '>', 'gte': '>=', 'lt': '<', 'lte': '<='}[operator] -%}
            {%- if operator == 'neq' -%}
                ({{ expression }} <> {{ bounds.start }} or {{ expression }} is null)
            {%- else -%}
                {{ expression }} {{ sql_operator }} {{ bounds.start }}
            {%- endif -%}
        {%- elif operator == 'eq' -%}
            ({{ expression }} >= {{ bounds.start }} and {{ expression }} < {{ bounds.end }})
        {%- elif operator == 'neq' -%}
            ({{ expression }} < {{ bounds.start }} or {{ expression }} >= {{ bounds.end }} or {{ expression }} is null)
        {%- elif operator == 'gt' -%}
            {{ expression }} >= {{ bounds.end }}
        {%- elif operator == 'gte' -%}
            {{ expression }} >= {{ bounds.start }}
        {%- elif operator == 'lt' -%}
            {{ expression }} < {{ bounds.start }}
        {%- else -%}
            {{ expression }} < {{ bounds.end }}
        {%- endif -%}

    {%- else -%}
        {{ exceptions.raise_compiler_error("Operator '" ~ operator ~ "' does not apply to dates") }}
    {%- endif -%}
{%- endmacro %}


{#- The time-window conditions of a behaviour filter, a list: `column` from `since` to `until`
    (either may be none). `since` counts from the start of its interval, `until` up to its
    end: since='-30 days' is from the start of the day 30 days ago; until='yesterday' is up to
    the end of yesterday. -#}
{% macro segment_window(column, since=none, until=none) -%}
    {%- set conditions = [] -%}
    {%- if since is not none -%}{%- do conditions.append(segment_date_condition(column, 'gte', since)) -%}{%- endif -%}
    {%- if until is not none -%}{%- do conditions.append(segment_date_condition(column, 'lte', until)) -%}{%- endif -%}
    {{ return(conditions) }}
{%- endmacro %}
