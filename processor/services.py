"""Ingestion of processor events: validate, store once, post to the ledger.

Idempotency is carried by the unique index on `event_id`, not by a
check-then-insert: the insert either wins, or fails with an IntegrityError
and the stored event is compared with the new one (replay or conflict).
"""

import logging
from dataclasses import dataclass

from django.db import IntegrityError, connection, transaction
from psycopg.types.json import Jsonb
from rest_framework.exceptions import ValidationError

from ledger.services import (
    Posting,
    RestaurantAccounts,
    accounts_ensure,
    charge_posting,
    refund_posting,
    transactions_post,
)
from mesa247.errors import ApplicationError, InvalidInput, validation_errors
from mesa247.metrics import event_counted
from mesa247.observability import log_context
from payouts.services import payout_mark_failed, payout_mark_paid

from .exceptions import EventConflict
from .models import Event, EventType
from .serializers import ProcessorEventInputSerializer, ProcessorEventOutputSerializer

logger = logging.getLogger("mesa247.processor")

# The fields whose values make an event what it is; compared canonically
# (timestamps as instants, metadata as parsed JSON) to tell a replay from a conflict.
BUSINESS_FIELDS = ("event_type", "occurred_at", "restaurant_id", "currency", "amount", "fee", "metadata")

# The events that post a ledger transaction of their own, and the ledger's recipe for each.
POSTING_RECIPES = {EventType.CHARGE_SUCCEEDED: charge_posting, EventType.REFUND_SUCCEEDED: refund_posting}
POSTED_TYPES = tuple(POSTING_RECIPES)
# Payout events apply to a payout instead, which posts its own transaction.
PAYOUT_TRANSITIONS = {EventType.PAYOUT_PAID: payout_mark_paid, EventType.PAYOUT_FAILED: payout_mark_failed}


# Built once: a serializer's fields cost more to build than an event costs to check or render.
# Both uses are stateless (the fields' own checks; `to_representation`), so threads share them.
_EVENT_INPUT = ProcessorEventInputSerializer()
_EVENT_OUTPUT = ProcessorEventOutputSerializer()


@dataclass(frozen=True)
class IngestOutcome:
    event: Event
    created: bool
    ledger_transaction_id: int | None

    @property
    def http_status(self) -> int:
        return 201 if self.created else 200


def event_validate(*, payload) -> dict:
    """Check one event's shape and values; raise InvalidInput with field errors.

    A valid event takes the serializer's quick path on one shared instance; only an invalid
    one pays for a serializer of its own, to say exactly what is wrong.
    """
    if not isinstance(payload, dict):
        raise InvalidInput(
            "The event must be a JSON object.",
            errors={"non_field_errors": ["Expected a JSON object, got " + type(payload).__name__ + "."]},
        )
    quickly = _EVENT_INPUT.validated_quickly(payload)
    if quickly is not None:
        return quickly
    try:
        return dict(ProcessorEventInputSerializer().run_validation(payload))
    except ValidationError as exc:
        raise InvalidInput("One or more fields are invalid.", errors=validation_errors(exc.detail)) from None


def payload_event_id(payload) -> str | None:
    """The event_id of a payload that may be invalid, to name it in an answer; None if there is none."""
    event_id = payload.get("event_id") if isinstance(payload, dict) else None
    return event_id if isinstance(event_id, str) else None


def event_ingest(*, payload) -> IngestOutcome:
    """Record a processor event and its ledger transaction exactly once; count the outcome for /metrics."""
    try:
        outcome = _event_ingest(payload)
    except EventConflict:
        event_counted(_payload_event_type(payload), "conflict")
        raise
    except ApplicationError:  # invalid (400) or impossible (422): nothing written
        event_counted(_payload_event_type(payload), "rejected")
        raise
    event_counted(outcome.event.event_type, "created" if outcome.created else "replay")
    return outcome


def _payload_event_type(payload):
    """A rejected payload's event_type, whatever JSON value it is (the metrics helper checks it)."""
    return payload.get("event_type") if isinstance(payload, dict) else None


def _event_ingest(payload) -> IngestOutcome:
    data = event_validate(payload=payload)
    with log_context(event_id=data["event_id"], restaurant_id=data["restaurant_id"]):
        try:
            recorded = _event_record(data)
        except IntegrityError:
            existing = event_get_recorded(event_id=data["event_id"])
            if existing is None:
                raise
            event_ensure_same(existing=existing, data=data)
            logger.info("event replayed", extra={"event_type": existing.event_type})
            ledger_transaction = getattr(existing, "ledger_transaction", None)
            return IngestOutcome(existing, False, ledger_transaction.pk if ledger_transaction else None)
        event, ledger_transaction_id = recorded
        logger.info("event recorded", extra={"event_type": event.event_type, "amount": event.amount})
        return IngestOutcome(event, True, ledger_transaction_id)


def event_get_recorded(*, event_id: str) -> Event | None:
    """The stored event with its ledger transaction: a replay answers the original body, which names it."""
    return Event.objects.select_related("ledger_transaction").filter(event_id=event_id).first()


def event_columns(data: dict) -> dict:
    """The stored columns of an event from its validated data; the API and the loader store the same rows."""
    metadata = data["metadata"]
    return {
        "event_id": data["event_id"],
        "event_type": data["event_type"],
        "occurred_at": data["occurred_at"],
        "restaurant_id": data["restaurant_id"],
        "currency": data["currency"],
        "amount": data["amount"],
        "fee": data["fee"],
        "metadata": metadata,
        "payment_id": metadata.get("payment_id"),
        "payout_ref": metadata.get("payout_id"),
    }


def event_build(data: dict) -> Event:
    """An unsaved Event from validated data."""
    return Event(**event_columns(data))


# The stored columns of an event: event_columns()'s and received_at. The loader copies the same ones.
EVENT_COLUMNS = ("event_id", "event_type", "occurred_at", "restaurant_id", "currency", "amount", "fee", "metadata",
                 "payment_id", "payout_ref", "received_at")
# One event; the ORM's INSERT would cost more Python than the rest of an event's ingestion together.
EVENT_INSERT_ONE_SQL = (
    f"INSERT INTO processor_event ({', '.join(EVENT_COLUMNS)}) "
    f"VALUES ({', '.join(f'%({column})s' for column in EVENT_COLUMNS)}) RETURNING id"
)


def event_insert(data: dict) -> Event:
    """INSERT one validated event; the saved Event. IntegrityError if its event_id is taken."""
    columns = event_columns(data)
    event = Event(**columns)
    with connection.cursor() as cursor:
        cursor.execute(EVENT_INSERT_ONE_SQL,
                       {**columns, "metadata": Jsonb(columns["metadata"]), "received_at": event.received_at})
        event.pk = cursor.fetchone()[0]
    event._state.adding = False
    return event


@transaction.atomic(durable=True)
def _event_record(data: dict) -> tuple[Event, int]:
    """The stored event and its ledger transaction's id."""
    # The insert comes first: a concurrent duplicate waits here on the unique
    # index and fails once the winner commits, before touching anything else.
    event = event_insert(data)
    if event.event_type in POSTED_TYPES:
        return event, event_post(event=event)
    return event, PAYOUT_TRANSITIONS[event.event_type](event=event)


def event_posting(*, event: Event, accounts: RestaurantAccounts) -> Posting:
    """The ledger posting of a charge or refund event."""
    return POSTING_RECIPES[event.event_type](event=event, accounts=accounts)


def event_post(*, event: Event) -> int:
    """Post a charge or refund event; the caller holds the database transaction. The transaction's id."""
    accounts = accounts_ensure(restaurant_id=event.restaurant_id, currency=event.currency)
    return transactions_post(postings=[event_posting(event=event, accounts=accounts)])[0]


def _json_equal(left, right) -> bool:
    """Equality of parsed JSON values, where (unlike in Python) true is not 1 and false is not 0."""
    if isinstance(left, bool) or isinstance(right, bool):
        return type(left) is type(right) and left == right
    if isinstance(left, dict) and isinstance(right, dict):
        return left.keys() == right.keys() and all(_json_equal(left[key], right[key]) for key in left)
    if isinstance(left, list) and isinstance(right, list):
        return len(left) == len(right) and all(map(_json_equal, left, right))
    return left == right


def event_ensure_same(*, existing: Event, data: dict) -> None:
    """Raise EventConflict naming every business field in which `data` differs from the stored event."""
    differing = [
        field
        for field in BUSINESS_FIELDS
        if not (
            _json_equal(existing.metadata, data[field])
            if field == "metadata"
            else getattr(existing, field) == data[field]
        )
    ]
    if differing:
        logger.warning("event conflict", extra={"fields": differing})
        raise EventConflict(
            f"Event {existing.event_id} was already recorded with a different "
            f"{', '.join(differing)}; nothing was written.",
            errors={field: ["Differs from the recorded event."] for field in differing},
            fields=differing,
        )


def event_body(event: Event, *, ledger_transaction_id: int | None) -> dict:
    """The response for an event; the same body on every replay."""
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


def outcome_body(outcome: IngestOutcome) -> dict:
    return event_body(outcome.event, ledger_transaction_id=outcome.ledger_transaction_id)


@dataclass(frozen=True)
class BatchResult:
    index: int
    event_id: str | None
    http_status: int
    replayed: bool
    event: dict | None = None
    error: dict | None = None

    def as_dict(self) -> dict:
        body = {"index": self.index, "event_id": self.event_id, "status": self.http_status, "replayed": self.replayed}
        if self.event is not None:
            body["event"] = self.event
        if self.error is not None:
            body["error"] = self.error
        return body


def events_ingest_batch(*, payloads: list) -> list[BatchResult]:
    """Ingest each event on its own, in order; one result per event, as the single endpoint would answer."""
    results = []
    for index, payload in enumerate(payloads):
        event_id = payload_event_id(payload)
        try:
            outcome = event_ingest(payload=payload)
        except ApplicationError as error:
            results.append(BatchResult(index, event_id, error.http_status, False, error=error.as_problem()))
            continue
        results.append(
            BatchResult(index, event_id, outcome.http_status, not outcome.created, event=outcome_body(outcome))
        )
    return results
