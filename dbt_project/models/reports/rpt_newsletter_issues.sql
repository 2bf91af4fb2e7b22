-- The newsletter's issues (emails of category var desk_newsletter_category that were sent):
-- when, to how many, and their engagement (rpt_email_performance).
select
    email_id,
    email_name,
    first_sent_on,
    {{ desk_quarter('first_sent_on') }} as quarter,
    sent,
    delivered,
    unique_opens,
    unique_clicks,
    unsubscribed,
    open_rate,
    click_rate
from {{ ref('rpt_email_performance') }}
where email_category = '{{ var("desk_newsletter_category") }}'
  and sent > 0
