-- The maintenance list of the directory: every integration with its state and due dates
-- (int_integration_maintenance), most urgent first in the dashboard.
select
    maintenance.integration_id,
    maintenance.name,
    maintenance.status,
    maintenance.days_since_activity,
    maintenance.last_activity_at,
    maintenance.at_risk_since,
    maintenance.notice_sent_at,
    maintenance.removal_due_at,
    maintenance.maintainer_email,
    maintenance.last_reviewed_at,
    maintenance.review_due_at,
    maintenance.is_review_overdue
from {{ ref('int_integration_maintenance') }} as maintenance
