"""The reconciliation API (SPEC §12): upload a report, read it, list and resolve exceptions."""

import tempfile

from django.conf import settings
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from audit.edge import audit_origin
from mesa247.errors import InvalidInput, PayloadTooLarge, UnsupportedMediaType
from mesa247.identifiers import EVENT_ID_PATTERN, RESTAURANT_ID_PATTERN
from mesa247.pagination import StrictCursorPagination
from mesa247.permissions import require_perms
from mesa247.schema import PROBLEM_RESPONSES, auth_examples, currency_parameter, pagination_parameters, problem_example

from .exceptions import ExceptionNotFound
from .filters import exception_filters_from_query
from .models import EXCEPTION_OUTCOMES
from .resolutions import exception_resolve
from .selectors import exception_list, report_get
from .serializers import (
    ExceptionResolveInputSerializer,
    ReconciliationExceptionOutputSerializer,
    ReconciliationExceptionPageOutputSerializer,
    SettlementReportCreateOutputSerializer,
    SettlementReportOutputSerializer,
)
from .services import report_receive

CSV_CONTENT_TYPE = "text/csv"
READ_CHUNK = 1 << 20
REPORT_EXAMPLE = {
    "report_id": "stl_2025_12_30", "status": "reconciled", "lines": 4,
    "outcomes": {"matched": 2, "mismatched": 1, "missing_from_ledger": 1, "duplicate": 0},
    "currencies": {"PEN": {"report_net": 17240, "matched_net": 11400, "drift": 5840}},
    "received_at": "2025-12-31T08:00:00Z", "reconciled_at": "2025-12-31T08:00:02Z", "error": "",
}
LINE_EXAMPLE = {
    "report_id": "stl_2025_12_30", "line_number": 3, "line_id": "ln_000002", "category": "charge",
    "source_id": "evt_000124", "restaurant_id": "res_001", "currency": "PEN", "amount": 6000, "fee": 160,
    "net": 5840, "occurred_at": "2025-12-30T11:00:00Z", "payment_id": "pay_457", "outcome": "missing_from_ledger",
}
EXCEPTION_EXAMPLE = {
    "exception_id": 12, "outcome": "missing_from_ledger", "fields": [], "report_id": "stl_2025_12_30",
    "restaurant_id": "res_001", "currency": "PEN", "amount": 6000, "opened_at": "2025-12-31T08:00:02Z",
    "line": LINE_EXAMPLE, "event": None, "payout": None, "resolution": None,
}
SAMPLE_CSV = (
    "report_id,line_id,category,source_id,restaurant_id,currency,amount,fee,net,occurred_at,payment_id\n"
    "stl_2025_12_30,ln_000001,charge,evt_000123,res_001,PEN,12000,600,11400,2025-12-30T10:00:00Z,pay_456\n"
)


def _body_to_file(request):
    """The request's body in a temporary file, read in chunks (never whole in memory), at most the limit."""
    limit = settings.RECONCILIATION_REPORT_MAX_BYTES
    declared = request.META.get("CONTENT_LENGTH")
    if declared and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"The report is over {limit} bytes.")
    body = tempfile.SpooledTemporaryFile(max_size=READ_CHUNK * 8)  # noqa: SIM115 (the caller closes it)
    size = 0
    while chunk := request._request.read(READ_CHUNK):
        size += len(chunk)
        if size > limit:
            body.close()
            raise PayloadTooLarge(f"The report is over {limit} bytes.")
        body.write(chunk)
    body.seek(0)
    return body


class RequiredBodySchema(AutoSchema):
    """The report is the body: the schema says it is required (spectacular cannot, for a raw media type)."""

    def _get_request_body(self, direction="request"):
        body = super()._get_request_body(direction)
        if body:
            body["required"] = True
        return body


class SettlementReportCreateApi(APIView):
    permission_classes = [require_perms("reconciliation.add_settlementreport")]
    schema = RequiredBodySchema()

    @extend_schema(
        operation_id="settlement_report_create",
        summary="Upload a processor settlement report (reconciled by a worker)",
        description=(
            "The report is a CSV file (UTF-8, a header row; see docs/reconciliation.md). It is checked whole: "
            "any bad line is a 400 listing up to 100 errors with their line numbers, and nothing is written. "
            "A valid report is stored and queued (202); follow `Location`. The same report again is 200 with "
            "the stored report; the same `report_id` with other content is 409."
        ),
        request={CSV_CONTENT_TYPE: OpenApiTypes.BINARY},
        responses={
            202: OpenApiResponse(SettlementReportCreateOutputSerializer, description="Queued"),
            200: OpenApiResponse(SettlementReportOutputSerializer, description="Received before: nothing new."),
            **PROBLEM_RESPONSES(400, 401, 403, 409, 413, 415),
        },
        examples=[
            OpenApiExample("Report", value=SAMPLE_CSV, request_only=True, media_type=CSV_CONTENT_TYPE),
            OpenApiExample("Queued", value={"report_id": "stl_2025_12_30", "status": "queued"},
                           response_only=True, status_codes=["202"]),
            OpenApiExample("Received before", value=REPORT_EXAMPLE, response_only=True, status_codes=["200"]),
            problem_example(400, "report_invalid", "The report has 1 error(s); nothing was written.",
                            errors={"line 3": ["net: Must be 11400 for a charge of amount 12000 and fee 600, "
                                               "got 12000."]},
                            lines=[{"line": 3, "column": "net",
                                    "message": "Must be 11400 for a charge of amount 12000 and fee 600, got 12000."}],
                            error_count=1),
            *auth_examples("reconciliation.add_settlementreport"),
            problem_example(409, "report_conflict",
                            "Report stl_2025_12_30 was already received with other content; nothing was written.",
                            report_id="stl_2025_12_30"),
            problem_example(413, "payload_too_large", "The report is over 209715200 bytes."),
            problem_example(415, "unsupported_media_type", "The report must be sent as text/csv."),
        ],
        tags=["reconciliation"],
    )
    def post(self, request):
        if (request.content_type or "").split(";")[0].strip().lower() != CSV_CONTENT_TYPE:
            raise UnsupportedMediaType("The report must be sent as text/csv.")
        with _body_to_file(request) as body:
            origin = audit_origin(request)
            receipt = report_receive(stream=body, uploaded_by=request.user, actor_label=origin["actor_label"],
                                     address=origin["address"])
        if not receipt.created:
            return Response(SettlementReportOutputSerializer(report_get(report_id=receipt.report.pk)).data,
                            headers={"Idempotent-Replayed": "true"})
        return Response(SettlementReportCreateOutputSerializer(receipt.report).data, status=202,
                        headers={"Location": f"/v1/reconciliation/reports/{receipt.report.pk}"})


class SettlementReportDetailApi(APIView):
    permission_classes = [require_perms("reconciliation.view_settlementreport")]

    @extend_schema(
        operation_id="settlement_report_get",
        summary="A settlement report's status, outcomes and drift per currency",
        description="drift = report_net − matched_net; duplicate lines count in neither.",
        responses={200: SettlementReportOutputSerializer, **PROBLEM_RESPONSES(401, 403, 404)},
        examples=[
            OpenApiExample("Reconciled", value=REPORT_EXAMPLE, response_only=True),
            *auth_examples("reconciliation.view_settlementreport"),
            problem_example(404, "report_not_found", "No settlement report 'stl_404' exists.", report_id="stl_404"),
        ],
        tags=["reconciliation"],
    )
    def get(self, request, report_id: str):
        return Response(SettlementReportOutputSerializer(report_get(report_id=report_id)).data)


class ExceptionPagination(StrictCursorPagination):
    ordering = ("-id",)


class ReconciliationExceptionListApi(APIView):
    permission_classes = [require_perms("reconciliation.view_reconciliationexception")]

    @extend_schema(
        operation_id="reconciliation_exception_list",
        summary="Reconciliation exceptions, newest first",
        description="Cursor-paginated; follow `next` until it is null.",
        parameters=[
            OpenApiParameter("report_id", str, required=False, pattern=f"^{EVENT_ID_PATTERN}$"),
            OpenApiParameter("outcome", str, required=False, enum=[outcome.value for outcome in EXCEPTION_OUTCOMES]),
            OpenApiParameter("resolved", str, required=False, enum=["true", "false"]),
            currency_parameter(),
            OpenApiParameter("restaurant_id", str, required=False, pattern=f"^{RESTAURANT_ID_PATTERN}$"),
            *pagination_parameters(),
        ],
        responses={200: ReconciliationExceptionPageOutputSerializer, **PROBLEM_RESPONSES(400, 401, 403)},
        examples=[
            OpenApiExample("Exceptions", value={"next": None, "previous": None, "results": [EXCEPTION_EXAMPLE]},
                           response_only=True),
            problem_example(400, "validation_error", "Invalid query parameters.",
                            errors={"resolved": ["Select a valid choice. yes is not one of the available choices."]}),
            *auth_examples("reconciliation.view_reconciliationexception"),
        ],
        tags=["reconciliation"],
    )
    def get(self, request):
        exceptions = exception_list(**exception_filters_from_query(request.query_params))
        paginator = ExceptionPagination()
        page = paginator.paginate_queryset(exceptions, request, view=self)
        return paginator.get_paginated_response(ReconciliationExceptionOutputSerializer(page, many=True).data)


class ReconciliationExceptionResolveApi(APIView):
    permission_classes = [require_perms("reconciliation.change_reconciliationexception")]

    @extend_schema(
        operation_id="reconciliation_exception_resolve",
        summary="Resolve an exception: record_from_report, apply_payout_status or explain",
        description=(
            "`record_from_report` records a missing_from_ledger line's event through the webhook's ingestion "
            "service; `apply_payout_status` marks a payout paid or failed as the report says, through the payout "
            "lifecycle; `explain` closes the exception with the note and moves no money. Resolved already: 409; "
            "an action that does not fit the exception: 422."
        ),
        parameters=[OpenApiParameter("exception_id", str, OpenApiParameter.PATH, pattern="^[A-Za-z0-9_]{1,64}$",
                                     description="The exception's id (digits); any other segment is 404.")],
        request=ExceptionResolveInputSerializer,
        responses={200: ReconciliationExceptionOutputSerializer, **PROBLEM_RESPONSES(400, 401, 403, 404, 409, 413,
                                                                                      415, 422)},
        examples=[
            OpenApiExample("Record from the report", value={"action": "record_from_report",
                                                            "note": "Webhook lost; the report has it."},
                           request_only=True),
            OpenApiExample("Resolved", response_only=True, value={
                **EXCEPTION_EXAMPLE, "resolution": {"action": "record_from_report",
                                                    "note": "Webhook lost; the report has it.", "resolved_by": "ana",
                                                    "resolved_at": "2025-12-31T09:00:00Z",
                                                    "ledger_transaction_id": None, "confirmed_by": None}}),
            problem_example(400, "validation_error", "One or more fields are invalid.",
                            errors={"note": ["This field is required."]}),
            *auth_examples("reconciliation.change_reconciliationexception"),
            problem_example(404, "exception_not_found", "No reconciliation exception 404 exists.", exception_id=404),
            problem_example(409, "exception_resolved", "Exception 12 was already resolved (explain); nothing was "
                                                       "changed.", exception_id=12, action="explain"),
            problem_example(413, "payload_too_large", "The body is over the upload size limit."),
            problem_example(415, "unsupported_media_type",
                            'Unsupported media type "application/x-www-form-urlencoded" in request.'),
            problem_example(422, "resolution_not_applicable",
                            "apply_payout_status fits a payout line whose only difference is the payout's status; "
                            "exception 12 is missing_from_ledger of nothing.", exception_id=12,
                            outcome="missing_from_ledger", fields=[]),
        ],
        tags=["reconciliation"],
    )
    def post(self, request, exception_id: str):
        if not isinstance(request.data, dict):
            raise InvalidInput("The body must be a JSON object.",
                               errors={"non_field_errors": ["Expected a JSON object."]})
        serializer = ExceptionResolveInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        if not (exception_id.isascii() and exception_id.isdigit() and len(exception_id) <= 18):
            raise ExceptionNotFound(f"No reconciliation exception {exception_id!r} exists.", exception_id=exception_id)
        origin = audit_origin(request)
        exception = exception_resolve(exception_id=int(exception_id), user=request.user,
                                      actor_label=origin["actor_label"], address=origin["address"],
                                      **serializer.validated_data)
        return Response(ReconciliationExceptionOutputSerializer(
            exception_list().get(pk=exception.pk)).data)
