"""Query-parameter filters shared by the list endpoints: the common validators, and one way to read them."""

from django.conf import settings
from django.core.exceptions import ValidationError

from .domain_errors import InvalidInput, validation_errors
from .money import RESTAURANT_ID_RE

EMPTY_FILTER = "Must not be empty: leave the parameter out to list every value."


def unsupported_currency(value) -> str | None:
    """What is wrong with `value` as a currency code, or None when it is a supported one."""
    if isinstance(value, str) and value in settings.SUPPORTED_CURRENCIES:
        return None
    return f"Unsupported currency {value!r}; use one of {', '.join(settings.SUPPORTED_CURRENCIES)}."


def supported_currency(value: str) -> None:
    if problem := unsupported_currency(value):
        raise ValidationError(problem)


def restaurant_id_valid(value: str) -> None:
    if not RESTAURANT_ID_RE.match(value):
        raise ValidationError("Must be 1–64 characters of [A-Za-z0-9_.-].")


def filters_from_query(filterset_class, query_params) -> dict:
    """The filters of a list endpoint, validated; an empty or invalid value is a 400, never ignored."""
    errors = {name: [EMPTY_FILTER] for name in filterset_class.base_filters if "" in query_params.getlist(name)}
    filters = filterset_class(query_params, queryset=filterset_class._meta.model.objects.none())
    if not filters.is_valid():
        errors = {**validation_errors(dict(filters.errors)), **errors}
    if errors:
        raise InvalidInput("Invalid query parameters.", errors=errors)
    return {key: value for key, value in filters.form.cleaned_data.items() if value}
