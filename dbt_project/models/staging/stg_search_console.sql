-- Search Console's performance rows, once per (day, query, page): the latest loaded version.
-- Queries lower-cased; page_path is the page URL's path; ctr is recomputed downstream from
-- clicks and impressions (the export's text is not trusted: "3.5%" or 0.035).
select day, query, page, page_path, clicks, impressions, position
from (
    select
        cast(date as date) as day,
        lower(trim(query)) as query,
        page,
        coalesce(nullif(regexp_extract(page, '^[a-z]+://[^/]+(/[^?#]*)', 1), ''), page) as page_path,
        clicks,
        impressions,
        position,
        row_number() over (
            partition by cast(date as date), lower(trim(query)), page
            order by _loaded_at desc, _source_row desc
        ) as nth
    from {{ source('raw', 'search_console') }}
) as ranked
where nth = 1
