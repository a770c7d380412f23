"""The query parameters of GET /v1/audit-events, validated (every bad one a 400, never ignored)."""

from datetime import datetime

import django_filters
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator

from mesa247.filters import filters_from_query

from .models import AuditAction, AuditEvent

OBJECT_TYPE_PATTERN = r"^[a-z0-9_]+\.[a-z0-9_]+$"
# RFC 3339 with its offset, as the schema states it (Python reads each such value, leap seconds aside).
TIMESTAMP_PATTERN = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,6})?(Z|[+-][0-9]{2}:[0-9]{2})$"
TIMESTAMP_HELP = "ISO-8601 with an offset, e.g. 2026-01-10T00:00:00Z."


def aware_timestamp(text: str) -> datetime:
    """An ISO-8601 timestamp with an offset; ValueError for anything else (a naive one included)."""
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise ValueError("naive timestamp")
    return moment


def timestamp_valid(text: str) -> None:
    try:
        aware_timestamp(text)
    except ValueError:
        raise ValidationError(f"Must be a timestamp written {TIMESTAMP_HELP}") from None


class AuditEventFilter(django_filters.FilterSet):
    # Validated here, applied by the selector.
    actor = django_filters.CharFilter(max_length=150, method="_keep")
    action = django_filters.ChoiceFilter(choices=AuditAction.choices, method="_keep")
    object_type = django_filters.CharFilter(
        max_length=100, method="_keep",
        validators=[RegexValidator(OBJECT_TYPE_PATTERN, "Must be app_label.model, e.g. payouts.payoutrun.")],
    )
    object_id = django_filters.CharFilter(max_length=255, method="_keep")
    occurred_after = django_filters.CharFilter(max_length=64, validators=[timestamp_valid], method="_keep")
    occurred_before = django_filters.CharFilter(max_length=64, validators=[timestamp_valid], method="_keep")

    class Meta:
        model = AuditEvent
        fields = ["actor", "action", "object_type", "object_id", "occurred_after", "occurred_before"]

    def _keep(self, queryset, name, value):
        return queryset


def audit_event_filters_from_query(query_params) -> dict:
    """The filters of GET /v1/audit-events, as `audit_event_list` takes them."""
    filters = filters_from_query(AuditEventFilter, query_params)
    for name in ("occurred_after", "occurred_before"):
        if name in filters:
            filters[name] = aware_timestamp(filters[name])
    return filters
