import django_filters

from mesa247.filters import PlainDateFilter, filters_from_query
from mesa247.identifiers import restaurant_id_valid
from mesa247.money import supported_currency

from .models import Payout, PayoutStatus


class PayoutFilter(django_filters.FilterSet):
    restaurant_id = django_filters.CharFilter(field_name="restaurant_id", validators=[restaurant_id_valid])
    status = django_filters.ChoiceFilter(choices=PayoutStatus.choices)
    currency = django_filters.CharFilter(field_name="currency", validators=[supported_currency])
    as_of = PlainDateFilter(field_name="as_of")

    class Meta:
        model = Payout
        fields = ["restaurant_id", "status", "currency", "as_of"]


def payout_filters_from_query(query_params) -> dict:
    """The filters of GET /v1/payouts, validated."""
    return filters_from_query(PayoutFilter, query_params)
