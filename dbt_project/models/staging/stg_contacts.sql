-- One row per contact email (or per row, for contacts exported without one). When several
-- files describe the same email, each field takes its latest non-empty value, as a Mautic
-- import updates a contact without blanking what the file leaves empty.
with source as (
    select * from {{ source('raw', 'contacts') }}
),

keyed as (
    select
        *,
        coalesce(email, 'row:' || _source || ':' || cast(_source_row as varchar)) as contact_key
    from source
),

latest as (
    select
        contact_key,
        email,
        {% for column, name in [
            ('external_id', 'external_id'), ('title', 'title'), ('firstname', 'first_name'),
            ('lastname', 'last_name'), ('company', 'company_name'), ('position', 'job_title'),
            ('phone', 'phone'), ('mobile', 'mobile'), ('address1', 'address_line1'),
            ('address2', 'address_line2'), ('city', 'city'), ('state', 'state'),
            ('zipcode', 'zip_code'), ('country', 'country'), ('timezone', 'timezone'),
            ('preferred_locale', 'preferred_locale'), ('website', 'website'),
            ('facebook', 'facebook'), ('twitter', 'twitter'), ('linkedin', 'linkedin'),
            ('ip_address', 'ip_address'), ('points', 'imported_points'), ('stage', 'imported_stage'),
            ('owner', 'owner'), ('tags', 'tags'), ('custom_fields', 'custom_fields'),
            ('date_modified', 'updated_at'), ('date_identified', 'identified_at'),
            ('last_active', 'imported_last_active_at')
        ] %}
        last_value({{ column }} ignore nulls) over contact_rows as {{ name }},
        {% endfor %}
        min(date_added) over contact_rows as created_at,
        min(_loaded_at) over contact_rows as first_loaded_at,
        max(_loaded_at) over contact_rows as last_loaded_at,
        row_number() over contact_rows as row_in_contact
    from keyed
    window contact_rows as (
        partition by contact_key order by _loaded_at, _source, _source_row
        rows between unbounded preceding and unbounded following
    )
)

select * exclude (contact_key, row_in_contact)
from latest
where row_in_contact = 1
