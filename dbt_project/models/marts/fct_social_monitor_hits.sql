-- One row per (post, monitor) that matched: a mention monitor when the text names @target
-- (not followed by a letter, digit or _), a hashtag monitor when the post carries #target;
-- case-insensitive, on the monitor's platform only when it names one.
select
    mentions.mention_id,
    monitors.monitor_id,
    monitors.kind,
    monitors.points,
    monitors.segment_id,
    mentions.posted_at
from {{ ref('stg_social_mentions') }} as mentions
inner join {{ ref('social_monitors') }} as monitors
    on (monitors.platform is null or lower(monitors.platform) = mentions.platform)
    and (
        (
            monitors.kind = 'mention'
            and {{ regex_matches(
                "lower(coalesce(mentions.text, ''))",
                "'@' || lower(monitors.target) || '([^a-z0-9_]|$)'"
            ) }}
        )
        or (
            monitors.kind = 'hashtag'
            and {{ list_has('mentions.hashtags', "lower(trim(leading '#' from monitors.target))") }}
        )
    )
