import django_filters

from mesa247.filters import filters_from_query
from mesa247.identifiers import restaurant_id_valid
from mesa247.money import supported_currency

from .models import EXCEPTION_OUTCOMES, ReconciliationException


class ReconciliationExceptionFilter(django_filters.FilterSet):
    report_id = django_filters.CharFilter(max_length=128)
    outcome = django_filters.ChoiceFilter(choices=[(outcome.value, outcome.label) for outcome in EXCEPTION_OUTCOMES])
    resolved = django_filters.ChoiceFilter(choices=[("true", "true"), ("false", "false")], method="_unused")
    currency = django_filters.CharFilter(validators=[supported_currency])
    restaurant_id = django_filters.CharFilter(validators=[restaurant_id_valid])

    class Meta:
        model = ReconciliationException
        fields = ["report_id", "outcome", "resolved", "currency", "restaurant_id"]

    def _unused(self, queryset, name, value):  # the selector filters; this set only validates
        return queryset


def exception_filters_from_query(query_params) -> dict:
    """The filters of GET /v1/reconciliation/exceptions, validated; `resolved` is written true or false."""
    filters = filters_from_query(ReconciliationExceptionFilter, query_params)
    if "resolved" in filters:
        filters["resolved"] = filters["resolved"] == "true"
    return filters
