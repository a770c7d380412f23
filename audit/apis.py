from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework.views import APIView

from mesa247.pagination import StrictCursorPagination
from mesa247.permissions import require_perms
from mesa247.schema import ONCE, PROBLEM_RESPONSES, auth_examples, pagination_parameters, problem_example

from .filters import OBJECT_TYPE_PATTERN, TIMESTAMP_HELP, TIMESTAMP_PATTERN, audit_event_filters_from_query
from .models import AuditAction
from .selectors import audit_event_list
from .serializers import AuditEventOutputSerializer, AuditEventPageOutputSerializer

VIEW_PERMISSION = "audit.view_auditevent"
AUDIT_EVENT_EXAMPLE = {
    "audit_event_id": 41,
    "occurred_at": "2025-12-31T06:00:00Z",
    "actor": "mario.manager",
    "actor_user_id": 7,
    "address": "203.0.113.9",
    "action": "payout_run_requested",
    "object_type": "payouts.payoutrun",
    "object_id": "6f1c2d3e-4b5a-4c6d-8e7f-9a0b1c2d3e4f",
    "before": None,
    "after": {"currency": "PEN", "as_of": "2025-12-30", "min_amount": 5000, "status": "queued"},
    "detail": {"via": "api"},
}


class AuditEventPagination(StrictCursorPagination):
    ordering = "-id"


def _text_parameter(name: str, description: str, *, max_length: int, pattern: str | None = None,
                    format: str | None = None):
    schema = {"type": "string", "minLength": 1, "maxLength": max_length, **({"pattern": pattern} if pattern else {}),
              **({"format": format} if format else {})}
    return OpenApiParameter(name, schema, required=False, description=f"{description} {ONCE}")


class AuditEventListApi(APIView):
    """Read-only: the trail is written by the actions themselves, never through the API."""

    permission_classes = [require_perms(VIEW_PERMISSION)]

    @extend_schema(
        operation_id="audit_event_list",
        summary="The audit trail: who did what, when and from where, newest first",
        description=(
            "One append-only row per action that moves money or changes who may do what (payout runs, "
            "adjustments, holds, schedules, reconciliation, tokens, users and groups, sign-ins). "
            "Cursor-paginated; follow `next` until it is null."
        ),
        parameters=[
            _text_parameter("actor", 'The actor as recorded: a username, "token:<name>" or "system:<part>".',
                            max_length=150),
            OpenApiParameter("action", str, required=False, enum=AuditAction.values, description=ONCE),
            _text_parameter("object_type", "app_label.model, e.g. payouts.payoutrun.", max_length=100,
                            pattern=OBJECT_TYPE_PATTERN),
            _text_parameter("object_id", "The object's id, exactly.", max_length=255),
            _text_parameter("occurred_after", f"From this moment, inclusive: {TIMESTAMP_HELP}", max_length=64,
                            pattern=TIMESTAMP_PATTERN, format="date-time"),
            _text_parameter("occurred_before", f"Up to this moment, exclusive: {TIMESTAMP_HELP}", max_length=64,
                            pattern=TIMESTAMP_PATTERN, format="date-time"),
            *pagination_parameters(),
        ],
        responses={200: AuditEventPageOutputSerializer, **PROBLEM_RESPONSES(400, 401, 403)},
        examples=[
            OpenApiExample("Audit events", value={"next": None, "previous": None, "results": [AUDIT_EVENT_EXAMPLE]},
                           response_only=True),
            problem_example(400, "validation_error", "Invalid query parameters.",
                            errors={"occurred_after": [f"Must be a timestamp written {TIMESTAMP_HELP}"]}),
            *auth_examples(VIEW_PERMISSION),
        ],
        tags=["audit"],
    )
    def get(self, request):
        events = audit_event_list(**audit_event_filters_from_query(request.query_params))
        paginator = AuditEventPagination()
        page = paginator.paginate_queryset(events, request, view=self)
        return paginator.get_paginated_response(AuditEventOutputSerializer(page, many=True).data)
