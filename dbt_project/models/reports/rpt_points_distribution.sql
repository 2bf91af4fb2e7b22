-- How contacts' current points are spread: one row per points bucket (all buckets, empty ones
-- with 0 contacts), over every known contact in dim_contacts (contacts without points count
-- in the '0' bucket). Bucket edges sit on the stage thresholds of the demo stages (10, 40, 80).
{%- set buckets = [
    {'label': '< 0', 'min': none, 'max': -1},
    {'label': '0', 'min': 0, 'max': 0},
    {'label': '1-9', 'min': 1, 'max': 9},
    {'label': '10-24', 'min': 10, 'max': 24},
    {'label': '25-39', 'min': 25, 'max': 39},
    {'label': '40-59', 'min': 40, 'max': 59},
    {'label': '60-79', 'min': 60, 'max': 79},
    {'label': '80-99', 'min': 80, 'max': 99},
    {'label': '100-149', 'min': 100, 'max': 149},
    {'label': '150+', 'min': 150, 'max': none},
] %}

with buckets as (
    {%- for bucket in buckets %}
    select
        {{ loop.index }} as bucket_order,
        '{{ bucket.label }}' as points_bucket,
        cast({{ bucket.min if bucket.min is not none else 'null' }} as {{ dbt.type_int() }}) as min_points,
        cast({{ bucket.max if bucket.max is not none else 'null' }} as {{ dbt.type_int() }}) as max_points
    {%- if not loop.last %}
    union all{% endif %}
    {%- endfor %}
),

contacts as (
    select contact_id, coalesce(points, 0) as points from {{ ref('dim_contacts') }}
),

bucketed as (
    select
        buckets.bucket_order,
        count(contacts.contact_id) as contacts,
        cast(coalesce(sum(contacts.points), 0) as {{ dbt.type_bigint() }}) as total_points
    from buckets
    left join contacts
        on (buckets.min_points is null or contacts.points >= buckets.min_points)
        and (buckets.max_points is null or contacts.points <= buckets.max_points)
    group by buckets.bucket_order
),

everyone as (
    select count(*) as contacts from contacts
)

select
    buckets.bucket_order,
    buckets.points_bucket,
    buckets.min_points,
    buckets.max_points,
    bucketed.contacts,
    {{ report_ratio('bucketed.contacts', 'everyone.contacts') }} as share_of_contacts,
    bucketed.total_points
from buckets
inner join bucketed on buckets.bucket_order = bucketed.bucket_order
cross join everyone
