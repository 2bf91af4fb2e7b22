-- First touch paid search: the contact's first web session came from Google Ads.
{% call segment('First touch: paid search') %}
    {{ first_touch(source='google', medium='cpc') }}
{% endcall %}
