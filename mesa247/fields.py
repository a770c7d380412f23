"""Serializer fields shared by the apps' APIs."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from .money import MAX_AMOUNT, is_minor_units


@extend_schema_field(OpenApiTypes.INT64)
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
