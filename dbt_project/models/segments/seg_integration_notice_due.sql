-- Integration maintainers due the removal notice: the maintainer of an integration at risk
-- (no release or commit for desk_policy.at_risk_after_days) with no notice sent in this
-- episode. The campaign integration_removal_notice emails them (allow_restart: a new
-- episode, after an update and a new stale spell, is a new entry and a new notice).
{% call segment('Integration notice due') %}
    contact.email in (
        select maintainer_email
        from {{ ref('int_integration_maintenance') }}
        where status = 'at risk'
    )
{% endcall %}
