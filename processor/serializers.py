import json
import re
from datetime import UTC, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from drf_spectacular.extensions import OpenApiSerializerExtension, OpenApiSerializerFieldExtension
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from mesa247.fields import CurrencyField, MinorUnitsField
from mesa247.identifiers import EVENT_ID_PATTERN, RESTAURANT_ID_PATTERN

from .models import DISPUTE_EVENT_TYPES, MONEY_EVENT_TYPES, PAYOUT_EVENT_TYPES, DisputeStatus, EventType

METADATA_MAX_BYTES = 16 * 1024
FUTURE_TOLERANCE = timedelta(minutes=5)
_DISPUTE_ID = re.compile(rf"\A{EVENT_ID_PATTERN}\Z")


class PatternField(serializers.Field):
    default_error_messages = {"invalid": "Must match {pattern}.", "not_string": "Must be a string."}

    def __init__(self, *, pattern: str, description: str, **kwargs):
        self.pattern = pattern
        self.regex = re.compile(rf"\A{pattern}\Z")
        self.pattern_description = description
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("not_string")
        if not self.regex.match(data):
            self.fail("invalid", pattern=self.pattern_description)
        return data

    def to_representation(self, value):
        return value


@extend_schema_field(OpenApiTypes.DATETIME)
class AwareDateTimeField(serializers.Field):
    """ISO-8601 with an explicit offset; naive timestamps are ambiguous and refused."""

    default_error_messages = {
        "invalid": "Must be an ISO-8601 timestamp with an offset, e.g. 2025-12-30T10:00:00Z.",
        "naive": "Must include a UTC offset (Z or ±HH:MM); naive timestamps are refused.",
        "future": "Must not be more than 5 minutes in the future.",
    }

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        try:
            value = parse_datetime(data.strip())
        except ValueError:
            value = None
        if value is None:
            self.fail("invalid")
        if value.tzinfo is None or value.utcoffset() is None:
            self.fail("naive")
        try:
            # Stored in UTC; an instant at the edge of the calendar cannot be.
            value = value.astimezone(UTC)
        except (OverflowError, ValueError):
            self.fail("invalid")
        if value > timezone.now() + FUTURE_TOLERANCE:
            self.fail("future")
        return value

    def to_representation(self, value):
        return value.isoformat()


METADATA_MAX_DEPTH = 32


def _storable_problem(value) -> str | None:
    """Walk the metadata without recursion: too deep, or NUL (which jsonb cannot hold)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > METADATA_MAX_DEPTH:
            return "too_deep"
        if isinstance(item, str):
            if "\x00" in item:
                return "not_storable"
        elif isinstance(item, dict):
            for key, child in item.items():
                if "\x00" in key:
                    return "not_storable"
                stack.append((child, depth + 1))
        elif isinstance(item, list):
            stack.extend((child, depth + 1) for child in item)
    return None


class MetadataField(serializers.Field):
    default_error_messages = {
        "not_object": "Must be a JSON object.",
        "too_large": f"Must be at most {METADATA_MAX_BYTES} bytes as JSON.",
        "too_deep": f"Must be nested at most {METADATA_MAX_DEPTH} levels deep.",
        "not_storable": "Must hold finite numbers and text without NUL characters or unpaired surrogates.",
        "bad_reference": "{name} must be a non-empty string of at most {limit} characters.",
        "bad_dispute_id": "metadata.dispute_id must be 1–128 characters of [A-Za-z0-9_.:-].",
    }

    # References copied into indexed columns, with those columns' lengths.
    REFERENCE_LIMITS = {"payment_id": 128, "payout_id": 64, "reservation_id": 128, "dispute_id": 128}

    def to_internal_value(self, data):
        if not isinstance(data, dict):
            self.fail("not_object")
        problem = _storable_problem(data)
        if problem:
            self.fail(problem)
        try:
            text = json.dumps(data, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
            encoded = text.encode()
        except (ValueError, UnicodeEncodeError):
            # 1e999 parses as infinity; "\ud800" is no text PostgreSQL can store.
            self.fail("not_storable")
        if len(encoded) > METADATA_MAX_BYTES:
            self.fail("too_large")
        for key, limit in self.REFERENCE_LIMITS.items():
            if key in data and not (isinstance(data[key], str) and 0 < len(data[key]) <= limit):
                self.fail("bad_reference", name=key, limit=limit)
        if "dispute_id" in data and not _DISPUTE_ID.match(data["dispute_id"]):
            self.fail("bad_dispute_id")
        return data

    def to_representation(self, value):
        return value


class PatternFieldSchema(OpenApiSerializerFieldExtension):
    target_class = PatternField

    def map_serializer_field(self, auto_schema, direction):
        return {"type": "string", "pattern": f"^{self.target.pattern}$", "description": self.target.pattern_description}


class MetadataFieldSchema(OpenApiSerializerFieldExtension):
    """A free-form object; the references copied into indexed columns have those columns' lengths."""

    target_class = MetadataField

    def map_serializer_field(self, auto_schema, direction):
        return {
            "type": "object",
            "additionalProperties": True,
            "properties": {
                **{name: {"type": "string", "minLength": 1, "maxLength": limit}
                   for name, limit in MetadataField.REFERENCE_LIMITS.items()},
                "dispute_id": {"type": "string", "pattern": f"^{EVENT_ID_PATTERN}$"},
            },
            "description": (
                f"A JSON object of at most {METADATA_MAX_BYTES} bytes, nested at most {METADATA_MAX_DEPTH} levels, "
                "without NUL characters. Payout events name the payout in `payout_id`, dispute events the dispute "
                "in `dispute_id`."
            ),
        }


class ProcessorEventInputSerializer(serializers.Serializer):
    event_id = PatternField(pattern=EVENT_ID_PATTERN, description="1–128 characters of [A-Za-z0-9_.:-]")
    event_type = serializers.ChoiceField(choices=EventType.choices)
    occurred_at = AwareDateTimeField(help_text="With an offset; not more than 5 minutes ahead of the server's clock.")
    restaurant_id = PatternField(pattern=RESTAURANT_ID_PATTERN, description="1–64 characters of [A-Za-z0-9_.-]")
    currency = CurrencyField(help_text="ISO 4217 code from SUPPORTED_CURRENCIES.")
    amount = MinorUnitsField(minimum=1)
    fee = MinorUnitsField(minimum=0, required=False, default=0,
                          help_text="What the processor kept (or returned, on a refund): at most `amount`; 0 on payout "
                                    "events and dispute_lost; a dispute's fee (or the part of it a won dispute "
                                    "returns) is not bounded by `amount`.")
    metadata = MetadataField(required=False, default=dict)

    def validated_quickly(self, data: dict) -> dict | None:
        """The validated event, from the fields' own checks without DRF's per-field machinery.

        The same checks (each field's `to_internal_value`, then `validate`) at a
        fraction of the cost; None as soon as anything is off, and `run_validation` then says
        exactly what, with DRF's messages. tests/processor/test_bad_inputs.py holds both to the
        same answers.
        """
        values = {}
        try:
            for name, field in self.fields.items():
                if name in data:
                    values[name] = field.to_internal_value(data[name])
                elif field.required:
                    return None
                else:
                    values[name] = field.get_default()
            return self.validate(values)
        except (serializers.ValidationError, DjangoValidationError):
            return None

    def validate(self, attrs):
        errors = {}
        if attrs["event_type"] in DISPUTE_EVENT_TYPES:
            _dispute_problems(attrs, errors)
        elif attrs["fee"] > attrs["amount"]:
            errors["fee"] = ["Must not exceed amount."]
        if attrs["event_type"] in PAYOUT_EVENT_TYPES:
            if "payout_id" not in attrs["metadata"]:
                errors["metadata"] = ["metadata.payout_id is required for payout events."]
            if attrs["fee"] != 0:
                errors["fee"] = ["Payout events carry no fee."]
            reason = attrs["metadata"].get("reason")
            if reason is not None and not isinstance(reason, str):
                errors.setdefault("metadata", []).append("metadata.reason must be a string.")
        if errors:
            raise serializers.ValidationError(errors)
        return attrs


def _dispute_problems(attrs: dict, errors: dict) -> None:
    """§11's rules of shape: every dispute event names its dispute; an opening names the payment; a lost
    dispute returns no fee. (Whether a decision fits its dispute is the service's 422.)"""
    metadata = attrs["metadata"]
    dispute_id = metadata.get("dispute_id")
    if dispute_id is None:
        errors.setdefault("metadata", []).append("metadata.dispute_id is required for dispute events.")
    if attrs["event_type"] == EventType.DISPUTE_OPENED and "payment_id" not in metadata:
        errors.setdefault("metadata", []).append("metadata.payment_id is required for dispute_opened.")
    if attrs["event_type"] == EventType.DISPUTE_LOST and attrs["fee"] != 0:
        errors["fee"] = ["A lost dispute returns no fee: must be 0."]


class ProcessorEventOutputSerializer(serializers.Serializer):
    """The stored event and the ledger transaction it posted."""

    event_id = serializers.CharField()
    event_type = serializers.ChoiceField(choices=EventType.choices)
    occurred_at = serializers.DateTimeField(default_timezone=UTC)
    restaurant_id = serializers.CharField()
    currency = serializers.CharField()
    amount = serializers.IntegerField()
    fee = serializers.IntegerField()
    metadata = serializers.DictField()
    received_at = serializers.DateTimeField(default_timezone=UTC)
    ledger_transaction_id = serializers.IntegerField(allow_null=True)
    payout_id = serializers.CharField(allow_null=True)


# Built once: its `to_representation` is stateless, so threads share it.
_EVENT_OUTPUT = ProcessorEventOutputSerializer()


def event_output(event, *, ledger_transaction_id: int | None) -> dict:
    """The answer's body for a recorded event; the same body on every replay."""
    return _EVENT_OUTPUT.to_representation(
        {
            "event_id": event.event_id,
            "event_type": event.event_type,
            "occurred_at": event.occurred_at,
            "restaurant_id": event.restaurant_id,
            "currency": event.currency,
            "amount": event.amount,
            "fee": event.fee,
            "metadata": event.metadata,
            "received_at": event.received_at,
            "ledger_transaction_id": ledger_transaction_id,
            "payout_id": event.payout_ref,
        }
    )


class ProcessorEventBatchInputSerializer(serializers.Serializer):
    events = serializers.ListField(
        child=serializers.JSONField(), min_length=1, max_length=settings.PROCESSOR_BATCH_MAX_EVENTS,
        help_text="Each item is checked as the single endpoint checks a body; one that is not a valid event gets "
                  "its own 400 result, and the others are still ingested.",
    )


class ProcessorEventBatchResultSerializer(serializers.Serializer):
    index = serializers.IntegerField()
    event_id = serializers.CharField(allow_null=True)
    status = serializers.IntegerField(help_text="The status the single-event endpoint would have answered.")
    replayed = serializers.BooleanField()
    event = ProcessorEventOutputSerializer(required=False)
    error = serializers.DictField(required=False, help_text="Problem details, as for the single endpoint.")


class ProcessorEventBatchOutputSerializer(serializers.Serializer):
    results = ProcessorEventBatchResultSerializer(many=True)


class ProcessorEventInputSchema(OpenApiSerializerExtension):
    """The event's fields, plus the rules payout events add (`metadata.payout_id` is required and `fee` is 0)
    and those dispute events add (`metadata.dispute_id`, and `payment_id` on an opening; no fee when lost)."""

    target_class = ProcessorEventInputSerializer

    def map_serializer(self, auto_schema, direction):
        schema = auto_schema._map_basic_serializer(self.target, direction)
        payout_types, money_types = PAYOUT_EVENT_TYPES, MONEY_EVENT_TYPES
        schema["oneOf"] = [
            {"properties": {"event_type": {"enum": money_types}}},
            {
                "properties": {
                    "event_type": {"enum": payout_types},
                    "fee": {"maximum": 0},
                    "metadata": {"type": "object", "required": ["payout_id"]},
                },
                "required": ["metadata"],
            },
            {
                "properties": {
                    "event_type": {"enum": [EventType.DISPUTE_OPENED.value]},
                    "metadata": {"type": "object", "required": ["dispute_id", "payment_id"]},
                },
                "required": ["metadata"],
            },
            {
                "properties": {
                    "event_type": {"enum": [EventType.DISPUTE_WON.value]},
                    "metadata": {"type": "object", "required": ["dispute_id"]},
                },
                "required": ["metadata"],
            },
            {
                "properties": {
                    "event_type": {"enum": [EventType.DISPUTE_LOST.value]},
                    "fee": {"maximum": 0},
                    "metadata": {"type": "object", "required": ["dispute_id"]},
                },
                "required": ["metadata"],
            },
        ]
        return schema


class DisputeOutputSerializer(serializers.Serializer):
    """A dispute as §11 shows it: what was withdrawn, and what a won decision gave back."""

    dispute_id = serializers.CharField()
    payment_id = serializers.CharField()
    restaurant_id = serializers.CharField()
    currency = serializers.CharField()
    amount = serializers.IntegerField(help_text="Minor units the processor withdrew.")
    fee = serializers.IntegerField(help_text="The dispute fee charged; the restaurant bears it.")
    status = serializers.ChoiceField(choices=DisputeStatus.choices)
    reinstated = serializers.IntegerField(help_text="Of the amount, what a won dispute gave back.")
    fee_returned = serializers.IntegerField(help_text="Of the fee, what a won dispute gave back.")
    opened_at = serializers.DateTimeField(default_timezone=UTC)
    closed_at = serializers.DateTimeField(default_timezone=UTC, allow_null=True)


class DisputePageOutputSerializer(serializers.Serializer):
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = DisputeOutputSerializer(many=True)
