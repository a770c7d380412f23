import django_filters

from mesa247.filters import filters_from_query
from mesa247.identifiers import restaurant_id_valid
from mesa247.money import supported_currency

from .models import Dispute, DisputeStatus


class DisputeFilter(django_filters.FilterSet):
    restaurant_id = django_filters.CharFilter(field_name="restaurant_id", validators=[restaurant_id_valid])
    status = django_filters.ChoiceFilter(choices=DisputeStatus.choices)
    currency = django_filters.CharFilter(field_name="currency", validators=[supported_currency])

    class Meta:
        model = Dispute
        fields = ["restaurant_id", "status", "currency"]


def dispute_filters_from_query(query_params) -> dict:
    """The filters of GET /v1/disputes, validated."""
    return filters_from_query(DisputeFilter, query_params)
