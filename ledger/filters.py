import django_filters

from mesa247.filters import filters_from_query
from mesa247.identifiers import restaurant_id_valid
from mesa247.money import supported_currency

from .models import Adjustment, AdjustmentStatus


class AdjustmentFilter(django_filters.FilterSet):
    # Validated here, applied by the selector (`status` is not a column).
    restaurant_id = django_filters.CharFilter(validators=[restaurant_id_valid], method="_keep")
    currency = django_filters.CharFilter(validators=[supported_currency], method="_keep")
    status = django_filters.ChoiceFilter(choices=AdjustmentStatus.choices, method="_keep")

    class Meta:
        model = Adjustment
        fields = ["restaurant_id", "currency", "status"]

    def _keep(self, queryset, name, value):
        return queryset


def adjustment_filters_from_query(query_params) -> dict:
    """The filters of GET /v1/adjustments, validated."""
    return filters_from_query(AdjustmentFilter, query_params)
