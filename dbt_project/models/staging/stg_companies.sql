-- One row per company name (case-insensitive); each field takes its latest non-empty value.
with keyed as (
    select *, lower(trim(companyname)) as company_key from {{ source('raw', 'companies') }}
),

merged as (
    {{ latest_values('keyed', 'company_key', [
        ('companyname', 'company_name'), ('external_id', 'external_id'),
        ('companyemail', 'email'), ('companywebsite', 'website'),
        ('companyindustry', 'industry'), ('companynumber_of_employees', 'employee_count'),
        ('companyannual_revenue', 'annual_revenue'), ('companyphone', 'phone'),
        ('companyaddress1', 'address_line1'), ('companyaddress2', 'address_line2'),
        ('companycity', 'city'), ('companystate', 'state'), ('companyzipcode', 'zip_code'),
        ('companycountry', 'country'), ('companydescription', 'description'),
        ('custom_fields', 'custom_fields'),
    ]) }}
)

select {{ dbt.hash('company_key') }} as company_id, {{ star_except('merged', ['company_key', '_row_in_key']) }}
from merged
