-- Lifecycle stage history: one row per stage a contact entered, with when and why.
--
-- A stage's entry rules (stages seed) are OR-ed: points reached `min_points` (the running sum
-- of fct_points_ledger), the first event of `event_type` (of form `form_id`), or the CRM tag
-- `contact_tag` (dated at the contact's creation: exports carry no tag history). A stage with
-- no rule is entered by every known contact when first seen (as dim_contacts.first_seen_at).
-- A campaign's change_stage action that activation carried out also qualifies the contact for
-- its stage, when it ran (int_campaign_actions_applied; reason 'campaign <id>').
--
-- Contacts never move backwards: a contact's stage at any moment is the highest stage whose
-- rule has held at some time up to then, so points falling below a threshold change nothing.
-- A contact that qualifies for a higher stage first (or at the same moment) skips the lower
-- ones: they have no row, so a funnel counts "reached stage k or later" as contacts with a row
-- of stage_order >= k. The current stage is the latest change (is_current).
--
-- Incremental: whole contacts are restaged — those with new ledger rows or new events of a
-- stage's event type, new contacts and ones seen earlier than known, those stitching gave or
-- took events, those whose CRM record was reloaded, those a campaign changed the stage of, and
-- everyone when the stages or the point rules changed — and their rows replaced (delete+insert on contact_id). Expiring points
-- (ledger decay rows) need no restaging: for a contact with no new events they come after all
-- its awards and only lower its points, so no threshold is crossed earlier or anew.
-- depends_on: {{ ref('int_identity_links') }}
{{ config(materialized=keyed_incremental(), unique_key='contact_id', incremental_strategy='delete+insert', on_schema_change='append_new_columns') }}

{% if is_incremental() %}
{% set since %}{{ loaded_watermark() }}{% endset %}
{% endif %}

with stages as (
    select
        stage_id,
        name as stage_name,
        stage_order,
        min_points,
        event_type,
        form_id,
        lower(contact_tag) as contact_tag
    from {{ ref('stages') }}
),

-- Fingerprint of the stages and of the point rules behind the ledger: a change restages everyone.
rules_version as (
    select
        {{ dbt.hash(dbt.concat([
            dbt.listagg(row_fingerprint([
                "stage_id", "name", "stage_order", "min_points", "event_type", "form_id",
                "contact_tag",
            ]), "';'", "order by stage_id"),
            "'; points: '",
            "(select coalesce(max(rules_version), '') from " ~ ref('fct_points_ledger') ~ ")",
        ])) }} as rules_version
    from {{ ref('stages') }}
),

-- Stage changes campaigns made (activation reported the change_stage action sent).
campaign_stage_changes as (
    select event_id, contact_id, campaign_id, target_id as stage_id, occurred_at, loaded_at
    from {{ campaign_optional_ref('int_campaign_actions_applied', campaign_applied_columns()) }} as applied
    where action = 'change_stage'
),

{% if is_incremental() %}
rules_changed as (
    {{ rules_changed() }}
),

restaged_contacts as (
    -- new or rescored points
    select contact_id from {{ ref('fct_points_ledger') }} where loaded_at > {{ since }}
    union
    -- new events of a stage's event type; new contacts; events earlier than the first known
    select new_events.contact_id
    from {{ ref('fct_events') }} as new_events
    left join (
        select contact_id, min(changed_at) as first_changed_at from {{ this }} group by contact_id
    ) as staged
        on new_events.contact_id = staged.contact_id
    where new_events.contact_id is not null
      and new_events.loaded_at > {{ since }}
      and (
          new_events.event_type in (select event_type from stages where event_type is not null)
          or staged.contact_id is null
          or new_events.occurred_at < staged.first_changed_at
      )
    union
    -- every contact ever linked to a tracking id whose events stitching moved
    {{ reattributed_contacts(since) }}
    union
    -- reloaded CRM records: tags, creation date
    select {{ dbt.hash('email') }} as contact_id
    from {{ ref('stg_contacts') }}
    where email is not null and last_loaded_at > {{ since }}
    union
    -- campaigns changed the stage
    select contact_id from campaign_stage_changes where loaded_at > {{ since }}
),
{% endif %}

crm as (
    select
        {{ dbt.hash('email') }} as contact_id,
        coalesce(created_at, first_loaded_at) as created_at,
        -- tags as "|a|b|", as in dim_contacts
        case
            when tags is not null
            then '|' || lower(replace(replace(tags, ', ', '|'), ',', '|')) || '|'
        end as tags,
        last_loaded_at
    from {{ ref('stg_contacts') }}
    where email is not null
),

-- Every known contact (as dim_contacts): CRM records with an email, and contacts seen in events.
contacts as (
    select
        coalesce(crm.contact_id, activity.contact_id) as contact_id,
        least(
            coalesce(activity.first_seen_at, crm.created_at),
            coalesce(crm.created_at, activity.first_seen_at)
        ) as first_seen_at,
        crm.created_at,
        crm.tags,
        crm.last_loaded_at
    from crm
    full outer join {{ ref('int_contacts_activity') }} as activity
        on crm.contact_id = activity.contact_id
    {% if is_incremental() %}
    where (select is_changed from rules_changed)
       or coalesce(crm.contact_id, activity.contact_id) in (select contact_id from restaged_contacts)
    {% endif %}
),

-- The contact's points after each moment its ledger changed.
point_moments as (
    select
        contact_id,
        occurred_at,
        sum(delta) as delta,
        max(event_id) as event_id,
        max(loaded_at) as loaded_at
    from {{ ref('fct_points_ledger') }}
    {% if is_incremental() %}
    where contact_id in (select contact_id from contacts)
    {% endif %}
    group by contact_id, occurred_at
),

balances as (
    select
        *,
        sum(delta) over (
            partition by contact_id order by occurred_at rows between unbounded preceding and current row
        ) as points
    from point_moments
),

stage_events as (
    select
        events.contact_id,
        events.event_id,
        events.event_type,
        events.form_id,
        events.occurred_at,
        events.loaded_at
    from {{ ref('fct_events') }} as events
    where events.contact_id is not null
      and events.event_type in (select event_type from stages where event_type is not null)
      {% if is_incremental() %}
      and events.contact_id in (select contact_id from contacts)
      {% endif %}
),

campaign_changes as (
    select * from campaign_stage_changes
    {% if is_incremental() %}
    where contact_id in (select contact_id from contacts)
    {% endif %}
),

-- Every moment a stage's rule held for a contact (the earliest per rule is enough).
qualifications as (
    select
        balances.contact_id,
        stages.stage_id,
        balances.occurred_at as qualified_at,
        'points >= ' || cast(stages.min_points as {{ dbt.type_string() }}) as reason,
        balances.event_id,
        2 as reason_rank
    from balances
    inner join stages
        on stages.min_points is not null and balances.points >= stages.min_points
    union all
    select
        stage_events.contact_id,
        stages.stage_id,
        stage_events.occurred_at as qualified_at,
        case
            when stages.form_id is null then stages.event_type
            else stages.event_type || ' (form ' || stages.form_id || ')'
        end as reason,
        stage_events.event_id,
        1 as reason_rank
    from stage_events
    inner join stages
        on stage_events.event_type = stages.event_type
        and (stages.form_id is null or stage_events.form_id = stages.form_id)
    union all
    select
        campaign_changes.contact_id,
        stages.stage_id,
        campaign_changes.occurred_at as qualified_at,
        'campaign ' || campaign_changes.campaign_id as reason,
        campaign_changes.event_id,
        0 as reason_rank
    from campaign_changes
    inner join stages on campaign_changes.stage_id = stages.stage_id
    union all
    select
        contacts.contact_id,
        stages.stage_id,
        contacts.created_at as qualified_at,
        'tag ' || stages.contact_tag as reason,
        cast(null as {{ dbt.type_string() }}) as event_id,
        3 as reason_rank
    from contacts
    inner join stages
        on stages.contact_tag is not null
        and contacts.tags like ('%|' || stages.contact_tag || '|%')
    union all
    select
        contacts.contact_id,
        stages.stage_id,
        contacts.first_seen_at as qualified_at,
        'first seen' as reason,
        cast(null as {{ dbt.type_string() }}) as event_id,
        4 as reason_rank
    from contacts
    cross join stages
    where stages.min_points is null and stages.event_type is null and stages.contact_tag is null
      and contacts.first_seen_at is not null
),

first_qualifications as (
    select
        qualifications.*,
        stages.stage_name,
        stages.stage_order,
        row_number() over (
            partition by qualifications.contact_id, qualifications.stage_id
            order by qualifications.qualified_at, qualifications.reason_rank, qualifications.event_id
        ) as nth
    from qualifications
    inner join stages on qualifications.stage_id = stages.stage_id
),

-- A stage is entered when no higher stage qualified as early: contacts only move up.
ranked as (
    select
        *,
        min(qualified_at) over (
            partition by contact_id order by stage_order desc
            rows between unbounded preceding and 1 preceding
        ) as higher_qualified_at
    from first_qualifications
    where nth = 1
),

entered as (
    select * from ranked
    where higher_qualified_at is null or qualified_at < higher_qualified_at
),

-- The newest load time of what a contact's stages were computed from (the incremental watermark).
inputs_loaded as (
    select contact_id, max(loaded_at) as loaded_at
    from (
        select contact_id, loaded_at from point_moments
        union all
        select contact_id, loaded_at from stage_events
        union all
        select contact_id, loaded_at from campaign_changes
        union all
        select contact_id, last_loaded_at as loaded_at from contacts
    ) as inputs
    group by contact_id
)

select
    {{ dbt.hash(dbt.concat(['entered.contact_id', "':'", 'entered.stage_id'])) }} as stage_change_id,
    entered.contact_id,
    entered.stage_id,
    entered.stage_name,
    entered.stage_order,
    lag(entered.stage_id) over (
        partition by entered.contact_id order by entered.stage_order
    ) as previous_stage_id,
    entered.qualified_at as changed_at,
    cast(entered.qualified_at as date) as changed_on,
    entered.reason,
    entered.event_id,
    row_number() over (
        partition by entered.contact_id order by entered.stage_order desc
    ) = 1 as is_current,
    inputs_loaded.loaded_at,
    rules_version.rules_version,
    {{ build_time() }} as built_at
from entered
left join inputs_loaded on entered.contact_id = inputs_loaded.contact_id
cross join rules_version
