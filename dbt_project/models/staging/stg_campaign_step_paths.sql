-- Every (ancestor, descendant) pair of steps of a campaign, with the branch taken out of the
-- ancestor toward the descendant (null below an action): the graph's transitive closure,
-- computed at load time so the models need no recursive SQL.
select
    campaign_id,
    ancestor_step_id,
    step_id,
    branch,
    distance
from {{ campaign_raw_table('campaign_step_paths') }} as raw_paths
