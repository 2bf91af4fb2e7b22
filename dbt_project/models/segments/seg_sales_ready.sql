-- Sales ready: marketing qualified or beyond (not yet a customer), with 15+ product-interest
-- points earned in the last 30 days, and active in the last 14 days.
{% call segment('Sales ready') %}
    {{ stage('gte', 'mql') }}
    and {{ stage('!=', 'customer') }}
    and {{ points('gte', 15, group='product_interest', since='-30 days') }}
    and {{ last_active('within', '-14 days') }}
{% endcall %}
