-- One row per company name (case-insensitive); each field takes its latest non-empty value.
with source as (
    select *, lower(trim(companyname)) as company_key from {{ source('raw', 'companies') }}
),

latest as (
    select
        company_key,
        {% for column, name in [
            ('companyname', 'company_name'), ('external_id', 'external_id'),
            ('companyemail', 'email'), ('companywebsite', 'website'),
            ('companyindustry', 'industry'), ('companynumber_of_employees', 'employee_count'),
            ('companyannual_revenue', 'annual_revenue'), ('companyphone', 'phone'),
            ('companyaddress1', 'address_line1'), ('companyaddress2', 'address_line2'),
            ('companycity', 'city'), ('companystate', 'state'), ('companyzipcode', 'zip_code'),
            ('companycountry', 'country'), ('companydescription', 'description'),
            ('custom_fields', 'custom_fields')
        ] %}
        last_value({{ column }} ignore nulls) over company_rows as {{ name }},
        {% endfor %}
        row_number() over company_rows as row_in_company
    from source
    window company_rows as (
        partition by company_key order by _loaded_at, _source, _source_row
        rows between unbounded preceding and unbounded following
    )
)

select {{ dbt.hash('company_key') }} as company_id, * exclude (row_in_company)
from latest
where row_in_company = 1
