import django_filters
from django.conf import settings
from django.core.exceptions import ValidationError

from mesa247.errors import InvalidInput, validation_errors
from mesa247.money import RESTAURANT_ID_RE

from .models import Payout, PayoutStatus


def _supported_currency(value: str) -> None:
    if value not in settings.SUPPORTED_CURRENCIES:
        raise ValidationError(f"Unsupported currency {value!r}; use one of {', '.join(settings.SUPPORTED_CURRENCIES)}.")


def _restaurant_id(value: str) -> None:
    if not RESTAURANT_ID_RE.match(value):
        raise ValidationError("Must be 1–64 characters of [A-Za-z0-9_.-].")


class PayoutFilter(django_filters.FilterSet):
    restaurant_id = django_filters.CharFilter(field_name="restaurant_id", validators=[_restaurant_id])
    status = django_filters.ChoiceFilter(choices=PayoutStatus.choices)
    currency = django_filters.CharFilter(field_name="currency", validators=[_supported_currency])
    as_of = django_filters.DateFilter(field_name="as_of", input_formats=["%Y-%m-%d"])

    class Meta:
        model = Payout
        fields = ["restaurant_id", "status", "currency", "as_of"]


EMPTY_FILTER = "Must not be empty: leave the parameter out to list every value."


def payout_filters_from_query(query_params) -> dict:
    """The filters of GET /v1/payouts, validated; an empty or invalid value is a 400, never ignored."""
    errors = {name: [EMPTY_FILTER] for name in PayoutFilter.base_filters if "" in query_params.getlist(name)}
    filters = PayoutFilter(query_params, queryset=Payout.objects.none())
    if not filters.is_valid():
        errors = {**validation_errors(dict(filters.errors)), **errors}
    if errors:
        raise InvalidInput("Invalid query parameters.", errors=errors)
    return {key: value for key, value in filters.form.cleaned_data.items() if value}
