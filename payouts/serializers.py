from datetime import UTC

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from mesa247.fields import LocalDateField
from mesa247.money import MAX_AMOUNT, is_minor_units

from .models import PayoutItemType, PayoutRunStatus, PayoutStatus
from .selectors import payout_items


@extend_schema_field({"type": "string", "enum": list(settings.SUPPORTED_CURRENCIES)})
class RunCurrencyField(serializers.CharField):
    """A currency code, read as text: whether it is supported is the run request's rule
    (`payout_run_rules_check`), checked once for the API, the admin and the command."""

    def __init__(self, **kwargs):
        super().__init__(trim_whitespace=False, **kwargs)


@extend_schema_field({"type": "integer", "format": "int64", "minimum": 1, "maximum": MAX_AMOUNT})
class RunMinAmountField(serializers.Field):
    """A JSON integer (no 5000.0, "5000" or true); its range is the run request's rule."""

    default_error_messages = {"not_integer": "Must be an integer number of minor units (no decimals, strings or "
                                             "booleans)."}

    def to_internal_value(self, data):
        if not is_minor_units(data):
            self.fail("not_integer")
        return data

    def to_representation(self, value):
        return value


@extend_schema_field({"type": "boolean"})
class JsonBooleanField(serializers.Field):
    """A JSON true or false only (no "true", 1 or null)."""

    default_error_messages = {"not_boolean": "Must be true or false."}

    def to_internal_value(self, data):
        if not isinstance(data, bool):
            self.fail("not_boolean")
        return data

    def to_representation(self, value):
        return bool(value)


class PayoutRunCreateInputSerializer(serializers.Serializer):
    """Reads the request's types; `payout_run_request` checks its rules."""

    currency = RunCurrencyField(help_text="ISO 4217 code from SUPPORTED_CURRENCIES.")
    as_of = LocalDateField(help_text=(
        "Business date (YYYY-MM-DD) in TIME_ZONE, e.g. 2025-12-30: today or earlier there. A date after "
        "today in TIME_ZONE is 400 naming `as_of` (a moving bound JSON Schema cannot state)."
    ))
    min_amount = RunMinAmountField(help_text="Smallest payout, in minor units (≥ 1).")
    respect_schedules = JsonBooleanField(required=False, default=False, help_text=(
        "true: pay only the restaurants whose payout schedule is due today in TIME_ZONE, each at no less than "
        "its schedule's minimum (as the daily scheduled run does). Default false: every eligible restaurant."))


class PayoutRunCreateOutputSerializer(serializers.Serializer):
    run_id = serializers.UUIDField(source="pk")
    status = serializers.ChoiceField(choices=PayoutRunStatus.choices)
    currency = serializers.CharField()
    as_of = serializers.DateField()
    min_amount = serializers.IntegerField()
    respect_schedules = serializers.BooleanField()


class PayoutRunOutputSerializer(serializers.Serializer):
    run_id = serializers.UUIDField(source="pk")
    status = serializers.ChoiceField(choices=PayoutRunStatus.choices)
    currency = serializers.CharField()
    as_of = serializers.DateField()
    min_amount = serializers.IntegerField()
    eligible = serializers.IntegerField(help_text="Restaurants with activity in the currency.")
    created = serializers.IntegerField(help_text="Payouts this run created.")
    skipped = serializers.IntegerField(help_text=(
        "Restaurants not paid: below the minimum, already paid for as_of, or (respect_schedules) not due."))
    held = serializers.IntegerField(help_text="Restaurants owed a payout that a hold kept from being paid.")
    respect_schedules = serializers.BooleanField()
    total_amount = serializers.IntegerField(help_text="Sum of this run's payouts, minor units.")
    attempts = serializers.IntegerField()
    requested_at = serializers.DateTimeField(default_timezone=UTC)
    started_at = serializers.DateTimeField(allow_null=True, default_timezone=UTC)
    finished_at = serializers.DateTimeField(allow_null=True, default_timezone=UTC)
    error = serializers.SerializerMethodField()

    def get_error(self, run) -> str | None:
        return run.error or None


class PayoutItemOutputSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=PayoutItemType.choices)
    amount = serializers.IntegerField(help_text="Restaurant-facing, minor units.")
    count = serializers.IntegerField(required=False, help_text="Entries settled; absent for carried_balance.")

    def to_representation(self, line):
        body = {"type": line.type, "amount": line.amount}
        if line.count is not None:
            body["count"] = line.count
        return body


class PayoutOutputSerializer(serializers.Serializer):
    payout_id = serializers.CharField(source="pk")
    restaurant_id = serializers.CharField()
    currency = serializers.CharField()
    amount = serializers.IntegerField()
    status = serializers.ChoiceField(choices=PayoutStatus.choices)
    as_of = serializers.DateField()
    run_id = serializers.UUIDField(allow_null=True)
    created_at = serializers.DateTimeField(default_timezone=UTC)
    paid_at = serializers.DateTimeField(allow_null=True, default_timezone=UTC)
    failed_at = serializers.DateTimeField(allow_null=True, default_timezone=UTC)
    failure_reason = serializers.CharField(allow_null=True)
    items = serializers.SerializerMethodField()

    @extend_schema_field(PayoutItemOutputSerializer(many=True))
    def get_items(self, payout) -> list:
        # With many=True the serializer is a ListSerializer, whose data is a list; the stubs see the one-item class.
        return PayoutItemOutputSerializer(payout_items(payout=payout), many=True).data  # type: ignore[return-value]


class PayoutPageOutputSerializer(serializers.Serializer):
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = PayoutOutputSerializer(many=True)


class PayoutHoldOutputSerializer(serializers.Serializer):
    hold_id = serializers.IntegerField(source="pk")
    restaurant_id = serializers.CharField()
    currency = serializers.CharField(allow_null=True, help_text="null: every currency.")
    reason = serializers.CharField()
    status = serializers.SerializerMethodField()
    placed_by = serializers.CharField(source="placed_by.username")
    placed_at = serializers.DateTimeField(default_timezone=UTC)
    released_by = serializers.SerializerMethodField()
    released_at = serializers.SerializerMethodField()

    def get_status(self, hold) -> str:
        return "released" if _release_of(hold) else "active"

    def get_released_by(self, hold) -> str | None:
        release = _release_of(hold)
        return release.released_by.username if release else None

    @extend_schema_field({"type": "string", "format": "date-time", "nullable": True})
    def get_released_at(self, hold) -> str | None:
        release = _release_of(hold)
        return serializers.DateTimeField(default_timezone=UTC).to_representation(release.released_at) \
            if release else None


def _release_of(hold):
    try:
        return hold.release
    except ObjectDoesNotExist:
        return None


class PayoutHoldListOutputSerializer(serializers.Serializer):
    restaurant_id = serializers.CharField()
    holds = PayoutHoldOutputSerializer(many=True, help_text="Newest first, released ones included.")
