-- Email performance per email, over all its sends: what Mautic shows on an email's stats.
-- One row per email of the catalog (emails never sent have zero counts and null rates), plus
-- any email id that was sent without being in the catalog.
with counts as (
    select
        sends.email_id,
        min(sends.sent_on) as first_sent_on,
        max(sends.sent_on) as last_sent_on,
        count(distinct sends.contact_id) as recipients,
        {{ report_email_counts('sends') }},
        {{ report_median('sends.minutes_to_open') }} as median_minutes_to_open
    from {{ ref('fct_email_sends') }} as sends
    group by sends.email_id
),

emails as (
    select email_id, name, subject, email_type, category, is_published
    from {{ ref('stg_emails') }}
)

select
    coalesce(emails.email_id, counts.email_id) as email_id,
    coalesce(emails.name, 'Email ' || counts.email_id) as email_name,
    emails.subject,
    emails.email_type,
    emails.category as email_category,
    coalesce(emails.is_published, false) as is_published,
    counts.first_sent_on,
    counts.last_sent_on,
    coalesce(counts.recipients, 0) as recipients,
    {{ report_email_columns('counts') }},
    counts.median_minutes_to_open
from emails
full outer join counts on emails.email_id = counts.email_id
