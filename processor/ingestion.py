"""The edge of ingestion: a parsed JSON payload checked into an `EventInput`, then recorded by the service.

The API, the batch endpoint and the loader all come through here, so an event is checked the
same way whatever carried it. The checks are the input serializer's: a valid event takes its
quick path on one shared instance; only an invalid one pays for a full `run_validation`, to
say exactly what is wrong (the same checks, so each rule is one piece of code).
"""

from typing import Any, cast

from rest_framework.exceptions import ValidationError

from mesa247.errors import InvalidInput, validation_errors
from mesa247.metrics import event_counted

from .serializers import ProcessorEventInputSerializer
from .services import EventInput, IngestOutcome, event_record

# Built once: a serializer's fields cost more to build than an event costs to check.
# The quick path is stateless (the fields' own checks), so threads share it.
_EVENT_INPUT = ProcessorEventInputSerializer()


def event_validate(*, payload) -> EventInput:
    """Check one event's shape and values; raise InvalidInput with field errors."""
    if not isinstance(payload, dict):
        raise InvalidInput(
            "The event must be a JSON object.",
            errors={"non_field_errors": ["Expected a JSON object, got " + type(payload).__name__ + "."]},
        )
    quickly = _EVENT_INPUT.validated_quickly(payload)
    # The serializer's fields are EventInput's keys, each checked into its type.
    if quickly is not None:
        return cast(EventInput, quickly)
    try:
        return cast(EventInput, dict(ProcessorEventInputSerializer().run_validation(payload)))
    except ValidationError as exc:
        # A serializer raises its errors by field name (a dict), never a bare list.
        errors = validation_errors(cast(dict[str, Any], exc.detail))
        raise InvalidInput("One or more fields are invalid.", errors=errors) from None


def event_ingest(*, payload, from_report: str | None = None) -> IngestOutcome:
    """Check a payload and record its event exactly once; an invalid one is counted as rejected for /metrics.

    `from_report` ("report_id/line_id"): the event comes from a settlement report's line, not a webhook.
    """
    try:
        event = event_validate(payload=payload)
    except InvalidInput:
        event_counted(payload.get("event_type") if isinstance(payload, dict) else None, "rejected")
        raise
    return event_record(event=event, from_report=from_report)


def payload_event_id(payload) -> str | None:
    """The event_id of a payload that may be invalid, to name it in an answer; None if there is none."""
    event_id = payload.get("event_id") if isinstance(payload, dict) else None
    return event_id if isinstance(event_id, str) else None
