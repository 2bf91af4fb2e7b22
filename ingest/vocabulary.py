"""The event vocabulary shared by the generator, ingest and the models.

Tracking sources speak the Segment/RudderStack spec (``type`` page/identify/track with a
human event name); the warehouse speaks one long table with snake_case ``event_type``s that
follow Mautic's contact timeline.
"""

from __future__ import annotations

# Segment ``track`` event names → funnelhouse event types.
TRACK_EVENT_TYPES: dict[str, str] = {
    "Form Submitted": "form_submit",
    "Asset Downloaded": "asset_download",
    "Email Sent": "email_sent",
    "Email Delivered": "email_delivered",
    "Email Opened": "email_open",
    "Email Link Clicked": "email_click",
    "Email Bounced": "email_bounce",
    "Email Unsubscribed": "email_unsubscribe",
    "SMS Sent": "sms_sent",
    "SMS Delivered": "sms_delivered",
    "SMS Failed": "sms_failed",
    "Focus Item Viewed": "focus_view",
    "Focus Item Clicked": "focus_click",
    "Dynamic Content Viewed": "dynamic_content_view",
    "Social Mention": "social_mention",
    "Points Adjusted": "manual_points",
    "Do Not Contact Changed": "dnc_change",
}

# Segment call types that are not ``track`` map straight to an event type.
CALL_EVENT_TYPES: dict[str, str] = {"page": "page_hit", "identify": "identify"}

EVENT_TYPES: tuple[str, ...] = ("page_hit", "identify", *TRACK_EVENT_TYPES.values())

# Catalogs that may be dropped under landing/catalogs/<name>/.
CATALOGS: tuple[str, ...] = (
    "emails",
    "sms",
    "forms",
    "pages",
    "assets",
    "focus_items",
    "dynamic_content",
    "campaigns",
)
