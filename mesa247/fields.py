"""Serializer fields shared by the apps' APIs, each described in OpenAPI exactly as it validates."""

import re
from datetime import date

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from rest_framework import serializers

from .money import MAX_AMOUNT, is_minor_units, supported_currency


class MinorUnitsField(serializers.Field):
    """An integer amount in minor units. Floats, strings and booleans are refused, not coerced."""

    default_error_messages = {
        "not_integer": "Must be an integer number of minor units (no decimals, strings or booleans).",
        "too_small": "Must be at least {minimum}.",
        "too_large": f"Must be at most {MAX_AMOUNT}.",
    }

    def __init__(self, *, minimum: int, **kwargs):
        self.minimum = minimum
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if not is_minor_units(data):
            self.fail("not_integer")
        if data < self.minimum:
            self.fail("too_small", minimum=self.minimum)
        if data > MAX_AMOUNT:
            self.fail("too_large")
        return data

    def to_representation(self, value):
        return value


LOCAL_DATE_PATTERN = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
PLAIN_DATE_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def plain_date(text) -> date:
    """A calendar date written exactly YYYY-MM-DD; ValueError for anything else.

    `date.fromisoformat` alone also reads week dates (2026-W01-1) and compact forms.
    """
    if not isinstance(text, str) or not PLAIN_DATE_RE.fullmatch(text):
        raise ValueError(f"not a date written YYYY-MM-DD: {text!r}")
    return date.fromisoformat(text)


class LocalDateField(serializers.Field):
    """A calendar date written YYYY-MM-DD, and nothing else (no week dates, no times)."""

    default_error_messages = {"invalid": "Must be a calendar date written YYYY-MM-DD."}

    def to_internal_value(self, data):
        try:
            return plain_date(data)
        except ValueError:
            self.fail("invalid")

    def to_representation(self, value):
        return value.isoformat()


class CurrencyField(serializers.CharField):
    """A currency code from SUPPORTED_CURRENCIES, checked in `to_internal_value`, so a serializer's
    quick path that calls only that (processor events) checks it too."""

    def __init__(self, **kwargs):
        super().__init__(max_length=3, min_length=3, trim_whitespace=False, **kwargs)

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        self.run_validators(value)  # its length first, as run_validation would
        try:
            supported_currency(value)
        except DjangoValidationError as error:
            raise serializers.ValidationError(error.messages) from None
        return value


class MinorUnitsFieldSchema(OpenApiSerializerFieldExtension):
    target_class = MinorUnitsField

    def map_serializer_field(self, auto_schema, direction):
        return {"type": "integer", "format": "int64", "minimum": self.target.minimum, "maximum": MAX_AMOUNT}


class CurrencyFieldSchema(OpenApiSerializerFieldExtension):
    target_class = CurrencyField

    def map_serializer_field(self, auto_schema, direction):
        return {"type": "string", "enum": list(settings.SUPPORTED_CURRENCIES)}


class LocalDateFieldSchema(OpenApiSerializerFieldExtension):
    target_class = LocalDateField

    def map_serializer_field(self, auto_schema, direction):
        return {"type": "string", "format": "date", "pattern": LOCAL_DATE_PATTERN}
