-- The integrations catalog: the latest loaded version of each integration. An update (a
-- newer release or commit) arrives as a new export of the catalog.
with latest as (
    {{ deduplicate(source('raw', 'integrations'), 'integration_id', '_loaded_at desc, _source_row desc') }}
)

select
    integration_id,
    name,
    proposal_reference,
    repository_url,
    licence,
    is_open_source,
    is_partner,
    is_member,
    maintainer_email,
    use_case_score,
    last_release_at,
    last_commit_at,
    last_reviewed_at
from latest
