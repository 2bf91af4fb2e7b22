-- The desk's proposals (Decidim's export): the latest loaded version of each proposal.
with latest as (
    {{ deduplicate(source('raw', 'integration_proposals'), 'reference', '_loaded_at desc, _source_row desc') }}
)

select
    reference as proposal_reference,
    id as proposal_id,
    title,
    state,
    coalesce(supports, 0) as portal_supports,
    coalesce(endorsements, 0) as endorsements,
    coalesce(comments, 0) as comments,
    coalesce(followers, 0) as followers,
    published_at,
    url,
    category
from latest
