-- Every change to a contact's points, one row each: awards of the point_rules seed (Mautic's
-- point actions) for the contact's events, manual adjustments (manual_points events), the
-- social monitors' points for the posts a contact wrote (fct_social_monitor_hits) and, when
-- `points_decay_days` is set, the expiry of earned points as negative 'decay' rows.
-- A contact's points are the sum of its rows' delta; a group score, the sum over one group.
--
-- Per contact and rule, matching events count in time order (then event id): a 'once' rule
-- awards the first only; `max_per_contact` caps what a rule awards in total (the match that
-- reaches the cap gets the remainder, later ones nothing).
--
-- Decay: a positive award older than `points_decay_days` stops counting; a 'decay' row takes
-- it back on the day it expires. Penalties (negative deltas) do not expire. Expiry is due up
-- to the newest event in fct_events (the warehouse's clock, so a rebuild is reproducible).
--
-- Incremental: a contact's rows depend on all its events (once, caps), so each run rescores
-- whole contacts — those with new scoring events, those stitching gave or took events (a
-- tracking id's events fct_events moved), those with points expiring since the last run, and
-- everyone when the rules (or the decay setting) changed; and every author of monitored posts,
-- old and new, since a contact claiming a handle moves its posts without any new post
-- (authors are few) — and replaces their rows (delete+insert on contact_id). A rescored
-- contact left with no rows gets a transient 'reset' row so its old rows are deleted too; the
-- post-hook removes it in the same transaction.
-- depends_on: {{ ref('int_identity_links') }}, {{ ref('point_groups') }} (groups the ledger rows belong to)
{#- Reset rows exist only in incremental runs: a full build (Spark: keyed_incremental()) has
    no post-hook. -#}
{{ config(
    materialized=keyed_incremental(),
    unique_key='contact_id',
    incremental_strategy='delete+insert',
    on_schema_change='append_new_columns',
    post_hook=(["delete from {{ this }} where entry_type = 'reset'"]
               if keyed_incremental() == 'incremental' else []),
) }}

{%- set decay_days = var('points_decay_days', none) %}

{% if is_incremental() %}
{% set since %}{{ loaded_watermark() }}{% endset %}
{% endif %}

with rules as (
    select
        rule_id,
        name as rule_name,
        event_type,
        lower(url_pattern) as url_pattern,
        form_id,
        asset_id,
        email_id,
        delta,
        coalesce(point_group, 'default') as point_group,
        repeatable,
        max_per_contact
    from {{ ref('point_rules') }}
    where is_active
),

-- Fingerprint of the rules table and the decay setting: rows scored under another one are stale.
rules_version as (
    select
        {{ dbt.hash(dbt.concat([
            dbt.listagg(row_fingerprint([
                "rule_id", "event_type", "url_pattern", "form_id", "asset_id", "email_id", "delta",
                "point_group", "repeatable", "max_per_contact", "is_active", "name",
            ]), "';'", "order by rule_id"),
            "'; decay days: " ~ (decay_days if decay_days is not none else 'none') ~ "'",
        ])) }} as rules_version
    from {{ ref('point_rules') }}
),

{% if decay_days is not none %}
-- Decay is due up to the newest event the warehouse holds.
decay_clock as (
    select {{ dbt.dateadd('day', -(decay_days | int), 'max(occurred_at)') }} as expired_before
    from {{ ref('fct_events') }}
),
{% endif %}

{% if is_incremental() %}
rules_changed as (
    {{ rules_changed() }}
),

rescored_contacts as (
    -- new or late scoring events (every contact's, when the rules changed)
    select contact_id
    from {{ ref('fct_events') }}
    where contact_id is not null
      and (event_type in (select event_type from rules) or event_type = 'manual_points')
      and (loaded_at > {{ since }} or (select is_changed from rules_changed))
    union
    -- every contact ever linked to a tracking id whose events fct_events moved to another
    -- contact (stitching)
    {{ reattributed_contacts(since) }}
    union
    -- authors of monitored posts, and contacts who were (a claimed handle moves its posts)
    select contact_id from {{ ref('fct_social_mentions') }}
    union
    select contact_id from {{ this }} where entry_type = 'monitor'
    union
    -- contacts scored under other rules, who may score nothing now
    select contact_id
    from {{ this }}
    where rules_version <> (select rules_version from rules_version)
    {% if decay_days is not none %}
    union
    -- contacts with points expiring since the last run: the newest row it wrote from events
    -- is no later than its clock, so expiries after that row are the ones it may not have
    -- written (a post may be newer than the events; monitor awards are rescored anyway)
    select contact_id
    from {{ this }}
    where entry_type in ('rule', 'manual')
      and delta > 0
      and occurred_at <= (select expired_before from decay_clock)
      and occurred_at > (
          select {{ dbt.dateadd('day', -(decay_days | int), 'max(occurred_at)') }}
          from {{ this }}
          where entry_type <> 'monitor'
      )
    {% endif %}
),
{% endif %}

events as (
    select
        events.event_id,
        events.event_type,
        events.occurred_at,
        events.contact_id,
        lower(coalesce(events.url, events.link_url)) as url,
        events.form_id,
        events.asset_id,
        events.email_id,
        events.points_delta,
        events.reason,
        events.loaded_at
    from {{ ref('fct_events') }} as events
    {% if is_incremental() %}
    inner join rescored_contacts on events.contact_id = rescored_contacts.contact_id
    {% endif %}
    where events.contact_id is not null
      and (events.event_type in (select event_type from rules) or events.event_type = 'manual_points')
),

-- The window sort carries only ids and times; the rules' fields join back after it.
matches as (
    select
        events.event_id,
        events.contact_id,
        events.occurred_at,
        events.loaded_at,
        rules.rule_id,
        row_number() over (
            partition by events.contact_id, rules.rule_id
            order by events.occurred_at, events.event_id
        ) as match_number
    from events
    inner join rules
        on events.event_type = rules.event_type
        and (rules.url_pattern is null or events.url like rules.url_pattern)
        and (rules.form_id is null or events.form_id = rules.form_id)
        and (rules.asset_id is null or events.asset_id = rules.asset_id)
        and (rules.email_id is null or events.email_id = rules.email_id)
),
rule_awards as (
    select
        matches.event_id,
        matches.contact_id,
        matches.occurred_at,
        matches.loaded_at,
        matches.rule_id,
        rules.rule_name as reason,
        rules.point_group,
        case
            when rules.max_per_contact is null then rules.delta
            -- what the earlier matches left of the cap, at most one delta
            else (case when rules.delta < 0 then -1 else 1 end) * least(
                abs(rules.delta),
                greatest(rules.max_per_contact - (matches.match_number - 1) * abs(rules.delta), 0)
            )
        end as delta
    from matches
    inner join rules on matches.rule_id = rules.rule_id
    where rules.repeatable = 'every_time' or matches.match_number = 1
),
earned as (
    select
        {{ dbt.hash(dbt.concat(["'rule:'", 'rule_id', "':'", 'event_id'])) }} as ledger_id,
        contact_id,
        occurred_at,
        delta,
        point_group,
        'rule' as entry_type,
        rule_id,
        cast(null as {{ dbt.type_string() }}) as monitor_id,
        reason,
        event_id,
        cast(null as {{ dbt.type_string() }}) as mention_id,
        loaded_at
    from rule_awards
    where delta <> 0
    union all
    select
        {{ dbt.hash(dbt.concat(["'manual:'", 'event_id'])) }} as ledger_id,
        contact_id,
        occurred_at,
        points_delta as delta,
        'default' as point_group,
        'manual' as entry_type,
        cast(null as {{ dbt.type_string() }}) as rule_id,
        cast(null as {{ dbt.type_string() }}) as monitor_id,
        coalesce(reason, 'manual adjustment') as reason,
        event_id,
        cast(null as {{ dbt.type_string() }}) as mention_id,
        loaded_at
    from events
    where event_type = 'manual_points' and points_delta <> 0
    union all
    select
        {{ dbt.hash(dbt.concat(["'monitor:'", 'hits.monitor_id', "':'", 'hits.mention_id'])) }}
            as ledger_id,
        mentions.contact_id,
        mentions.posted_at as occurred_at,
        hits.points as delta,
        'default' as point_group,
        'monitor' as entry_type,
        cast(null as {{ dbt.type_string() }}) as rule_id,
        hits.monitor_id,
        {{ dbt.concat(["'social monitor: '", 'monitors.name']) }} as reason,
        cast(null as {{ dbt.type_string() }}) as event_id,
        hits.mention_id,
        mentions.loaded_at
    from {{ ref('fct_social_monitor_hits') }} as hits
    inner join {{ ref('fct_social_mentions') }} as mentions
        on hits.mention_id = mentions.mention_id
    inner join {{ ref('social_monitors') }} as monitors on hits.monitor_id = monitors.monitor_id
    where hits.points <> 0
),

ledger as (
    select
        earned.*,
        cast(null as {{ dbt.type_string() }}) as decayed_ledger_id
    from earned
    {% if decay_days is not none %}
    union all
    select
        {{ dbt.hash(dbt.concat(['ledger_id', "':decay'"])) }} as ledger_id,
        contact_id,
        {{ dbt.dateadd('day', decay_days | int, 'occurred_at') }} as occurred_at,
        -delta as delta,
        point_group,
        'decay' as entry_type,
        rule_id,
        monitor_id,
        {{ dbt.concat(["'expired: '", 'reason']) }} as reason,
        event_id,
        mention_id,
        loaded_at,
        ledger_id as decayed_ledger_id
    from earned
    where delta > 0 and occurred_at <= (select expired_before from decay_clock)
    {% endif %}
)

select
    ledger.ledger_id,
    ledger.contact_id,
    ledger.occurred_at,
    cast(ledger.occurred_at as date) as occurred_on,
    ledger.delta,
    ledger.point_group,
    ledger.entry_type,
    ledger.rule_id,
    ledger.monitor_id,
    ledger.reason,
    ledger.event_id,
    ledger.mention_id,
    ledger.decayed_ledger_id,
    ledger.loaded_at,
    rules_version.rules_version,
    {{ build_time() }} as built_at
from ledger
cross join rules_version
{% if is_incremental() %}
union all
-- rescored contacts with no rows left: a placeholder so delete+insert clears their old rows
select
    {{ dbt.hash(dbt.concat(["'reset:'", 'rescored_contacts.contact_id'])) }} as ledger_id,
    rescored_contacts.contact_id,
    cast(null as {{ dbt.type_timestamp() }}) as occurred_at,
    cast(null as date) as occurred_on,
    0 as delta,
    cast(null as {{ dbt.type_string() }}) as point_group,
    'reset' as entry_type,
    cast(null as {{ dbt.type_string() }}) as rule_id,
    cast(null as {{ dbt.type_string() }}) as monitor_id,
    cast(null as {{ dbt.type_string() }}) as reason,
    cast(null as {{ dbt.type_string() }}) as event_id,
    cast(null as {{ dbt.type_string() }}) as mention_id,
    cast(null as {{ dbt.type_string() }}) as decayed_ledger_id,
    cast(null as {{ dbt.type_timestamp() }}) as loaded_at,
    rules_version.rules_version,
    {{ build_time() }} as built_at
from rescored_contacts
cross join rules_version
where not exists (
    select 1 from ledger where ledger.contact_id = rescored_contacts.contact_id
)
{% endif %}
