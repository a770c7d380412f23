import django_filters
from django.conf import settings
from django.core.exceptions import ValidationError

from mesa247.errors import InvalidInput, validation_errors
from mesa247.money import RESTAURANT_ID_RE

from .models import Adjustment, AdjustmentStatus


def _supported_currency(value: str) -> None:
    if value not in settings.SUPPORTED_CURRENCIES:
        raise ValidationError(f"Unsupported currency {value!r}; use one of {', '.join(settings.SUPPORTED_CURRENCIES)}.")


def _restaurant_id(value: str) -> None:
    if not RESTAURANT_ID_RE.match(value):
        raise ValidationError("Must be 1–64 characters of [A-Za-z0-9_.-].")


class AdjustmentFilter(django_filters.FilterSet):
    # Validated here, applied by the selector (`status` is not a column).
    restaurant_id = django_filters.CharFilter(validators=[_restaurant_id], method="_keep")
    currency = django_filters.CharFilter(validators=[_supported_currency], method="_keep")
    status = django_filters.ChoiceFilter(choices=AdjustmentStatus.choices, method="_keep")

    class Meta:
        model = Adjustment
        fields = ["restaurant_id", "currency", "status"]

    def _keep(self, queryset, name, value):
        return queryset


EMPTY_FILTER = "Must not be empty: leave the parameter out to list every value."


def adjustment_filters_from_query(query_params) -> dict:
    """The filters of GET /v1/adjustments, validated; an empty or invalid value is a 400, never ignored."""
    errors = {name: [EMPTY_FILTER] for name in AdjustmentFilter.base_filters if "" in query_params.getlist(name)}
    filters = AdjustmentFilter(query_params, queryset=Adjustment.objects.none())
    if not filters.is_valid():
        errors = {**validation_errors(dict(filters.errors)), **errors}
    if errors:
        raise InvalidInput("Invalid query parameters.", errors=errors)
    return {key: value for key, value in filters.form.cleaned_data.items() if value}
