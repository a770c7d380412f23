"""Processor webhooks: authenticated by signature, not by user credentials."""

import logging
import time

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from mesa247.errors import (
    ApplicationError,
    InvalidInput,
    PayloadTooLarge,
    UnsupportedMediaType,
    error_problem,
    http_status_of,
)
from mesa247.fast_path import accepts_plain_json, json_response, with_fast_path
from mesa247.parsers import json_strict_loads
from mesa247.schema import PROBLEM_RESPONSES, problem_example

from .exceptions import SignatureError
from .ingestion import event_ingest, payload_event_id
from .serializers import (
    ProcessorEventBatchInputSerializer,
    ProcessorEventBatchOutputSerializer,
    ProcessorEventInputSerializer,
    ProcessorEventOutputSerializer,
    event_output,
)
from .services import IngestOutcome
from .signature import SIGNATURE_HEADER, SIGNATURE_PATTERN, signature_verify

logger = logging.getLogger("mesa247.processor")

REPLAYED_HEADER = "Idempotent-Replayed"

SIGNATURE_PARAMETER = OpenApiParameter(
    SIGNATURE_HEADER,
    location=OpenApiParameter.HEADER,
    required=True,
    pattern=SIGNATURE_PATTERN,
    description=(
        "`t=<unix seconds>,v1=<hex>` where hex = HMAC-SHA256(secret, f\"{t}.\" + raw body), "
        "within 300 s of the server's clock."
    ),
)

CHARGE_EXAMPLE = {
    "event_id": "evt_000123",
    "event_type": "charge_succeeded",
    "occurred_at": "2025-12-30T10:00:00Z",
    "restaurant_id": "res_001",
    "currency": "PEN",
    "amount": 12000,
    "fee": 600,
    "metadata": {"reservation_id": "rsv_987", "payment_id": "pay_456"},
}
CHARGE_RESULT_EXAMPLE = {
    **CHARGE_EXAMPLE,
    "received_at": "2025-12-30T10:00:02.114Z",
    "ledger_transaction_id": 1,
    "payout_id": None,
}


def _read_verified_body(request, *, max_bytes: int) -> object:
    """Size (413), signature (401), content type (415), JSON (400): in that order.

    The size limit comes first so that nothing large is read or hashed; the
    signature comes before anything about the body is revealed to an
    unauthenticated caller.
    """
    declared = request.META.get("CONTENT_LENGTH") or "0"
    if declared.isdigit() and int(declared) > max_bytes:
        raise PayloadTooLarge(f"The body is over {max_bytes} bytes.")
    try:
        raw = request.body
    except RequestDataTooBig:
        raise PayloadTooLarge(f"The body is over {max_bytes} bytes.") from None
    if len(raw) > max_bytes:
        raise PayloadTooLarge(f"The body is over {max_bytes} bytes.")

    secrets = settings.PROCESSOR_WEBHOOK_SECRETS
    if secrets:
        signature_verify(
            header=request.headers.get(SIGNATURE_HEADER),
            body=raw,
            secrets=secrets,
            tolerance=settings.PROCESSOR_SIGNATURE_TOLERANCE_SECONDS,
            now=time.time(),
        )
    elif settings.DEBUG:
        logger.warning("accepting an unsigned processor event: no PROCESSOR_WEBHOOK_SECRETS configured")
    else:
        # The system check processor.E001 refuses to start like this; if it
        # was bypassed anyway, fail closed.
        raise SignatureError("No signing secret is configured.", code="signature_unconfigured")

    media_type = (request.content_type or "").split(";")[0].strip().lower()
    if media_type != "application/json":
        raise UnsupportedMediaType(f"Send Content-Type: application/json, not {media_type or 'nothing'}.")
    return json_strict_loads(raw)


def event_status(outcome: IngestOutcome) -> int:
    """201 the first time; 200 for a replay that wrote nothing, and for a payout event that confirms the status a
    settlement report's line already gave its payout (stored, but nothing posted)."""
    return 201 if outcome.created and not outcome.confirmed else 200


def outcome_body(outcome: IngestOutcome) -> dict:
    return event_output(outcome.event, ledger_transaction_id=outcome.ledger_transaction_id)


def _event_answer(request) -> tuple[dict, int, dict]:
    """One signed event ingested: the answer's body, status and headers."""
    payload = _read_verified_body(request, max_bytes=settings.PROCESSOR_EVENT_MAX_BYTES)
    outcome = event_ingest(payload=payload)
    headers = {} if outcome.created else {REPLAYED_HEADER: "true"}
    return outcome_body(outcome), event_status(outcome), headers


def events_ingest_batch(*, payloads: list) -> list[dict]:
    """Ingest each event on its own, in order; one result per event, as the single endpoint would answer."""
    results = []
    for index, payload in enumerate(payloads):
        result = {"index": index, "event_id": payload_event_id(payload)}
        try:
            outcome = event_ingest(payload=payload)
        except ApplicationError as error:
            results.append({**result, "status": http_status_of(error), "replayed": False,
                            "error": error_problem(error)})
            continue
        results.append({**result, "status": event_status(outcome), "replayed": not outcome.created,
                        "event": outcome_body(outcome)})
    return results


def event_ingest_answer(request):
    """A signed event answered without DRF's request machinery; None (DRF answers) for other
    methods and for callers that do not accept plain JSON."""
    if request.method != "POST" or not accepts_plain_json(request):
        return None
    body, status, headers = _event_answer(request)
    return json_response(body, status=status, headers=headers)


class ProcessorEventIngestApi(APIView):
    authentication_classes = []
    permission_classes = [AllowAny]

    @classmethod
    def as_view(cls, **initkwargs):
        return with_fast_path(super().as_view(**initkwargs), event_ingest_answer)

    @extend_schema(
        operation_id="processor_event_ingest",
        summary="Receive one processor event",
        description=(
            "Stores the event and posts its ledger transaction atomically. A resend with the same "
            "`event_id` and the same business fields answers 200 with the original body and "
            "`Idempotent-Replayed: true`; with other fields, 409 naming them. A `payout_paid` or "
            "`payout_failed` for a payout that a settlement report's line already put in that status "
            "(with the payout's restaurant, currency and amount) is stored and answers 200 without "
            "posting: its `ledger_transaction_id` is the report's posting, which it confirms."
        ),
        parameters=[
            SIGNATURE_PARAMETER,
            OpenApiParameter(
                REPLAYED_HEADER,
                location=OpenApiParameter.HEADER,
                response=[200],
                description="`true` on a replay: the event was already recorded and nothing new was written.",
            ),
        ],
        request=ProcessorEventInputSerializer,
        responses={
            201: OpenApiResponse(ProcessorEventOutputSerializer, description="Recorded for the first time."),
            200: OpenApiResponse(ProcessorEventOutputSerializer,
                                 description="A replay: nothing new written (`Idempotent-Replayed: true`). Or a "
                                             "payout event confirming a status a settlement report already "
                                             "applied: stored, nothing posted."),
            **PROBLEM_RESPONSES(400, 401, 409, 413, 415, 422),
        },
        examples=[
            OpenApiExample("Charge", value=CHARGE_EXAMPLE, request_only=True),
            OpenApiExample("Recorded", value=CHARGE_RESULT_EXAMPLE, response_only=True, status_codes=["201", "200"]),
            problem_example(
                400, "validation_error", "One or more fields are invalid.",
                errors={"amount": ["Must be an integer number of minor units (no decimals, strings or booleans)."]},
            ),
            problem_example(
                401, "signature_expired", "The signature timestamp is more than 300 seconds from now.",
                title="Invalid webhook signature",
            ),
            problem_example(
                409, "event_conflict",
                "Event evt_000123 was already recorded with a different amount; nothing was written.",
                errors={"amount": ["Differs from the recorded event."]}, fields=["amount"],
                title="Event id already used with a different payload",
            ),
            problem_example(413, "payload_too_large", "The body is over 65536 bytes."),
            problem_example(415, "unsupported_media_type", "Send Content-Type: application/json, not text/plain."),
            problem_example(422, "payout_not_found", "No payout 'po_x' exists.", payout_id="po_x"),
        ],
        tags=["processor"],
    )
    def post(self, request):
        body, status, headers = _event_answer(request)
        return Response(body, status=status, headers=headers)


class ProcessorEventBatchApi(APIView):
    authentication_classes = []
    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="processor_event_batch_ingest",
        summary="Receive up to 1,000 processor events",
        description=(
            "Each event is ingested exactly as by the single endpoint, independently and in order; "
            "the answer has one result per event with the status the single endpoint would give."
        ),
        parameters=[SIGNATURE_PARAMETER],
        request=ProcessorEventBatchInputSerializer,
        responses={200: ProcessorEventBatchOutputSerializer, **PROBLEM_RESPONSES(400, 401, 413, 415)},
        examples=[
            problem_example(
                400, "validation_error", "A batch holds 1 to 1000 events.",
                errors={"events": ["Must hold 1 to 1000 events."]},
            ),
            problem_example(
                401, "signature_mismatch", "No signature matches a configured secret.",
                title="Invalid webhook signature",
            ),
            problem_example(413, "payload_too_large", "The body is over 8388608 bytes."),
            problem_example(415, "unsupported_media_type", "Send Content-Type: application/json, not text/plain."),
            OpenApiExample("One event", value={"events": [CHARGE_EXAMPLE]}, request_only=True),
            OpenApiExample(
                "Results",
                value={
                    "results": [
                        {"index": 0, "event_id": "evt_000123", "status": 201, "replayed": False,
                         "event": CHARGE_RESULT_EXAMPLE},
                    ]
                },
                response_only=True,
                status_codes=["200"],
            ),
        ],
        tags=["processor"],
    )
    def post(self, request):
        payload = _read_verified_body(request, max_bytes=settings.PROCESSOR_BATCH_MAX_BYTES)
        if not isinstance(payload, dict) or not isinstance(payload.get("events"), list):
            raise InvalidInput(
                'The body must be {"events": [ … ]}.', errors={"events": ["Must be a list of events."]}
            )
        limit = settings.PROCESSOR_BATCH_MAX_EVENTS
        if not 1 <= len(payload["events"]) <= limit:
            raise InvalidInput(
                f"A batch holds 1 to {limit} events.", errors={"events": [f"Must hold 1 to {limit} events."]}
            )
        results = events_ingest_batch(payloads=payload["events"])
        return Response({"results": results}, status=200)
