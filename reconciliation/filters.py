import django_filters
from django.core.validators import RegexValidator

from mesa247.filters import filters_from_query
from mesa247.identifiers import EVENT_ID_PATTERN, restaurant_id_valid
from mesa247.money import supported_currency

from .models import EXCEPTION_OUTCOMES, ReconciliationException


class ReconciliationExceptionFilter(django_filters.FilterSet):
    # A report_id is written like an event id (reconciliation/parsing.py), as the schema's pattern says.
    report_id = django_filters.CharFilter(
        validators=[RegexValidator(rf"\A{EVENT_ID_PATTERN}\Z", "Must be 1–128 characters of [A-Za-z0-9_.:-].")])
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
