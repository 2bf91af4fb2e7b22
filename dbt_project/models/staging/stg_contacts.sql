-- One row per contact email (or per exported row without one); each field takes its latest
-- non-empty value across the files that describe the email.
with keyed as (
    select
        *,
        coalesce(email, 'row:' || _source || ':' || cast(_source_row as {{ dbt.type_string() }})) as contact_key
    from {{ source('raw', 'contacts') }}
),

merged as (
    {{ latest_values('keyed', 'contact_key', [
        ('email', 'email'), ('external_id', 'external_id'), ('title', 'title'),
        ('firstname', 'first_name'), ('lastname', 'last_name'), ('company', 'company_name'),
        ('position', 'job_title'), ('phone', 'phone'), ('mobile', 'mobile'),
        ('address1', 'address_line1'), ('address2', 'address_line2'), ('city', 'city'),
        ('state', 'state'), ('zipcode', 'zip_code'), ('country', 'country'),
        ('timezone', 'timezone'), ('preferred_locale', 'preferred_locale'),
        ('website', 'website'), ('facebook', 'facebook'), ('twitter', 'twitter'),
        ('linkedin', 'linkedin'), ('ip_address', 'ip_address'), ('points', 'imported_points'),
        ('stage', 'imported_stage'), ('owner', 'owner'), ('tags', 'tags'),
        ('custom_fields', 'custom_fields'), ('date_modified', 'updated_at'),
        ('date_identified', 'identified_at'), ('last_active', 'imported_last_active_at'),
    ]) }}
),

first_added as (
    select contact_key, min(date_added) as created_at from keyed group by contact_key
)

select {{ star_except('merged', ['contact_key', '_row_in_key']) }}, first_added.created_at
from merged
inner join first_added on merged.contact_key = first_added.contact_key
