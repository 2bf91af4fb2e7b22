{{ stage_catalog('sms', 'sms_id', ['name', 'message', 'category', 'language']) }}
