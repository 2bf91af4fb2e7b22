{{ stage_catalog('emails', 'email_id', ['name', 'subject', 'email_type', 'category', 'from_address', 'language']) }}
