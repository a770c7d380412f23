"""Query parameters as the OpenAPI schema says: the list endpoints' filters, read one way, and
the rule every endpoint's query follows (each parameter at most once)."""

import django_filters
from django import forms

from .domain_errors import InvalidInput, validation_errors
from .fields import LocalDateField, plain_date

EMPTY_FILTER = "Must not be empty: leave the parameter out to list every value."
REPEATED_PARAMETER = "Give this parameter once."


def repeated_parameters(query_params, names) -> dict:
    """Field errors for each of `names` given more than once. The schema's parameters are single
    values, and a repeated one would mean whichever copy a reader happened to take."""
    return {name: [REPEATED_PARAMETER] for name in names if len(query_params.getlist(name)) > 1}


def refuse_repeated_parameters(query_params, names) -> None:
    if errors := repeated_parameters(query_params, names):
        raise InvalidInput("Invalid query parameters.", errors=errors)


def filters_from_query(filterset_class, query_params) -> dict:
    """The filters of a list endpoint, validated; an empty or invalid value is a 400, never ignored."""
    # Blank counts as empty: the form fields strip whitespace (control characters such as \x1e included),
    # and a value stripped to nothing would otherwise be no filter at all.
    errors = {name: [EMPTY_FILTER] for name in filterset_class.base_filters
              if any(not value.strip() for value in query_params.getlist(name))}
    errors.update(repeated_parameters(query_params, filterset_class.base_filters))
    filters = filterset_class(query_params, queryset=filterset_class._meta.model.objects.none())
    if not filters.is_valid():
        errors = {**validation_errors(dict(filters.errors)), **errors}
    if errors:
        raise InvalidInput("Invalid query parameters.", errors=errors)
    return {key: value for key, value in filters.form.cleaned_data.items() if value}


class PlainDateFormField(forms.DateField):
    """A date written exactly YYYY-MM-DD, as the schema's `format: date` says: `2025-1-5`, which
    strptime's `%Y-%m-%d` reads, a week date or surrounding spaces are refused, not guessed at."""

    default_error_messages = {"invalid": LocalDateField.default_error_messages["invalid"]}

    def to_python(self, value):
        if value in self.empty_values:
            return None
        try:
            return plain_date(value)
        except ValueError:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid") from None


class PlainDateFilter(django_filters.DateFilter):
    """The date query parameter of a list endpoint (`format: date` in the schema, as DateFilter's)."""

    field_class = PlainDateFormField
