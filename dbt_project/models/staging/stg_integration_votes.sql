-- Every vote as exported, once: the same (voter, target, time) in two files or file
-- versions is one row. Whether it counts is decided downstream (membership, repeats).
select distinct
    trim(voter) as voter,
    trim(target) as target,
    voted_at
from {{ source('raw', 'integration_votes') }}
