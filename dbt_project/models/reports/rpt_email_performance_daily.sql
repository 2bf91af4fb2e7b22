-- Email performance per send day and email: the sends of that day and what became of them
-- (opens and clicks count on the day the email was sent, not the day they happened, so every
-- rate is over a fixed set of sends). One row per (sent_on, email_id) with at least one send.
with counts as (
    select
        sends.sent_on,
        sends.email_id,
        {{ report_email_counts('sends') }}
    from {{ ref('fct_email_sends') }} as sends
    group by sends.sent_on, sends.email_id
)

select
    counts.sent_on,
    counts.email_id,
    coalesce(emails.name, 'Email ' || counts.email_id) as email_name,
    {{ report_email_columns('counts') }}
from counts
left join {{ ref('stg_emails') }} as emails on counts.email_id = emails.email_id
