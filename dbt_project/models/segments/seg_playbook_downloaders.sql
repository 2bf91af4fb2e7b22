-- Playbook downloaders: downloaded the Marketing Automation Playbook (asset 1) in the last 90 days.
{% call segment('Playbook downloaders') %}
    {{ downloaded_asset(1, since='-90 days') }}
{% endcall %}
