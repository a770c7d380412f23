"""Ingestion of processor events: store a validated event once and post it to the ledger.

The edge (`processor/ingestion.py`: the API, the batch endpoint, the loader) checks a payload
into an `EventInput`; here it is recorded, and what goes wrong is a domain error.

Idempotency is carried by the unique index on `event_id`, not by a
check-then-insert: the insert either wins, or fails with an IntegrityError
and the stored event is compared with the new one (replay or conflict).
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, Protocol, TypedDict, get_args

from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from psycopg.types.json import Jsonb

from ledger.services import (
    EventCause,
    Posting,
    RestaurantAccounts,
    accounts_ensure,
    balance_event_seen,
    charge_posting,
    refund_posting,
    transactions_post,
)
from mesa247.domain_errors import ApplicationError
from mesa247.metrics import event_counted
from mesa247.observability import log_context
from payouts.models import PayoutStatus
from payouts.services import payout_status_apply

from .disputes import dispute_event_apply
from .exceptions import EventConflict
from .models import DISPUTE_EVENT_TYPES, Event, EventFromReport, EventType, PayoutEventConfirmation

logger = logging.getLogger("mesa247.processor")

# The fields whose values make an event what it is; compared canonically
# (timestamps as instants, metadata as parsed JSON) to tell a replay from a conflict.
BusinessField = Literal["event_type", "occurred_at", "restaurant_id", "currency", "amount", "fee", "metadata"]
BUSINESS_FIELDS: tuple[BusinessField, ...] = get_args(BusinessField)

# The events that post a ledger transaction of their own, and the ledger's recipe for each.
# Keyed by the stored event_type (a str; an EventType is one).
POSTING_RECIPES: dict[str, Callable[..., Posting]] = {
    EventType.CHARGE_SUCCEEDED: charge_posting, EventType.REFUND_SUCCEEDED: refund_posting,
}
POSTED_TYPES = tuple(POSTING_RECIPES)
# Dispute events open or decide a dispute (processor/disputes.py), which posts what it moves.
# Payout events move a payout to a status instead, which posts its own transaction, or confirm the status
# a settlement report's line gave it, which posts nothing (`_payout_event_apply`).
PAYOUT_TARGETS: dict[str, str] = {
    EventType.PAYOUT_PAID: PayoutStatus.PAID, EventType.PAYOUT_FAILED: PayoutStatus.FAILED,
}


class EventInput(TypedDict):
    """A validated event, as the edge's validator returns it (a plain dict: nothing to build per event)."""

    event_id: str
    event_type: str
    occurred_at: datetime  # aware, in UTC
    restaurant_id: str
    currency: str
    amount: int
    fee: int
    metadata: dict


class StoredEvent(Protocol):
    """What a replay is compared with: a stored `Event`, or a row a batch has just inserted."""

    @property
    def event_id(self) -> str: ...
    @property
    def metadata(self) -> dict[str, Any]: ...


class PostedEvent(EventCause, Protocol):
    """What the ledger's recipes read of an event, and its type to choose the recipe."""

    @property
    def event_type(self) -> str: ...


@dataclass(frozen=True)
class IngestOutcome:
    event: Event
    created: bool  # False: a replay of an identical event, which wrote nothing
    ledger_transaction_id: int | None
    # True: a payout event stored now that confirms the posting a settlement report's line made for the
    # same status (`ledger_transaction_id`): nothing was posted, no money moved.
    confirmed: bool = False


def event_record(*, event: EventInput, from_report: str | None = None) -> IngestOutcome:
    """Record a validated event and its ledger transaction exactly once; count the outcome for /metrics.

    `from_report` ("report_id/line_id") marks an event recorded from a settlement report's line.
    """
    try:
        outcome = _event_record_once(event, from_report)
    except EventConflict:
        event_counted(event["event_type"], "conflict")
        raise
    except ApplicationError:  # impossible (an unknown payout, an illegal transition): nothing written
        event_counted(event["event_type"], "rejected")
        raise
    event_counted(outcome.event.event_type,
                  "confirmed" if outcome.confirmed else "created" if outcome.created else "replay")
    return outcome


def _event_record_once(data: EventInput, from_report: str | None) -> IngestOutcome:
    with log_context(event_id=data["event_id"], restaurant_id=data["restaurant_id"]):
        try:
            recorded = _event_record(data, from_report)
        except IntegrityError:
            existing = event_get_recorded(event_id=data["event_id"])
            if existing is None:
                raise
            reported = getattr(existing, "from_report", None)
            # An event from a report carries little metadata: it and its webhook are compared without it.
            event_ensure_same(existing=existing, data=data, compare_metadata=reported is None and from_report is None)
            if reported is not None and from_report is None:
                _webhook_metadata_keep(reported=reported, metadata=data["metadata"])
            logger.info("event replayed", extra={"event_type": existing.event_type})
            return IngestOutcome(existing, False, event_ledger_transaction_id(existing))
        event, ledger_transaction_id, confirmed = recorded
        logger.info("event recorded", extra={"event_type": event.event_type, "amount": event.amount,
                                             "confirms_report": confirmed})
        return IngestOutcome(event, True, ledger_transaction_id, confirmed)


def event_get_recorded(*, event_id: str) -> Event | None:
    """The stored event with its ledger transaction (a replay answers the original body, which names it) and,
    for an event recorded from a settlement report or confirming a report's posting, that record (in the
    same statement)."""
    return (Event.objects.select_related("ledger_transaction", "from_report", "confirmation")
            .filter(event_id=event_id).first())


def event_ledger_transaction_id(event: Event) -> int | None:
    """The id of the event's ledger transaction: the one it posted, or the report's posting it confirmed."""
    ledger_transaction = getattr(event, "ledger_transaction", None)
    if ledger_transaction is not None:
        return ledger_transaction.pk
    confirmation = getattr(event, "confirmation", None)
    return confirmation.ledger_transaction_id if confirmation is not None else None


def _webhook_metadata_keep(*, reported: EventFromReport, metadata: dict) -> None:
    """The first webhook of an event recorded from a report: its metadata is kept beside the event."""
    if reported.webhook_received_at is None:
        EventFromReport.objects.filter(pk=reported.pk, webhook_received_at__isnull=True).update(
            webhook_metadata=metadata, webhook_received_at=timezone.now())


def event_columns(data: EventInput) -> dict:
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


def event_build(data: EventInput) -> Event:
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


def event_insert(data: EventInput) -> Event:
    """INSERT one validated event; the saved Event. IntegrityError if its event_id is taken."""
    columns = event_columns(data)
    event = Event(**columns)
    with connection.cursor() as cursor:
        # django-stubs' cursor parameters leave out psycopg's adapters such as Jsonb.
        cursor.execute(EVENT_INSERT_ONE_SQL,
                       {**columns, "metadata": Jsonb(columns["metadata"]),  # type: ignore[dict-item]
                        "received_at": event.received_at})
        event.pk = cursor.fetchone()[0]
    event._state.adding = False
    return event


@transaction.atomic(durable=True)
def _event_record(data: EventInput, from_report: str | None = None) -> tuple[Event, int | None, bool]:
    """The stored event, its ledger transaction's id (None for a lost dispute, which posts nothing) and whether
    that transaction is a settlement report's posting the event confirms (True: nothing posted)."""
    # The insert comes first: a concurrent duplicate waits here on the unique
    # index and fails once the winner commits, before touching anything else.
    event = event_insert(data)
    if from_report is not None:
        EventFromReport.objects.create(event=event, report_line=from_report)
    if event.event_type in POSTED_TYPES:
        return event, event_post(event=event), False
    if event.event_type in DISPUTE_EVENT_TYPES:
        return event, dispute_event_apply(event=event), False
    return (event, *_payout_event_apply(event))


def _payout_event_apply(event: Event) -> tuple[int, bool]:
    """A payout event moves its payout (and posts), or confirms the status a report's line gave it.

    The confirmation: the payout is already in the event's status by a posting that names no event (reconciliation's
    apply_payout_status) and no other event confirmed that posting yet. The event is stored, marked as confirming
    that posting, and moves no money; its balance's last_event_at moves, as for every event. A second payout event
    with another id for that status finds the posting confirmed: 422, as for any repeated status.
    """
    applied = payout_status_apply(event=event, target=PAYOUT_TARGETS[event.event_type],
                                  confirmable=_report_posting_unconfirmed)
    if not applied.posted:
        PayoutEventConfirmation.objects.create(event=event, ledger_transaction_id=applied.ledger_transaction_id)
        balance_event_seen(restaurant_id=event.restaurant_id, currency=event.currency, occurred_at=event.occurred_at)
    return applied.ledger_transaction_id, not applied.posted


def _report_posting_unconfirmed(ledger_transaction_id: int) -> bool:
    # Read under the payout's row lock, which every payout event takes first: a concurrent confirmation of
    # the same posting has committed by now, or waits behind this one (and the unique key backs this).
    return not PayoutEventConfirmation.objects.filter(ledger_transaction_id=ledger_transaction_id).exists()


def event_posting(*, event: PostedEvent, accounts: RestaurantAccounts) -> Posting:
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


def event_ensure_same(*, existing: StoredEvent, data: EventInput, compare_metadata: bool = True) -> None:
    """Raise EventConflict naming every business field in which `data` differs from the stored event.

    An event recorded from a settlement report is compared without its metadata (the report carries little).
    """
    differing = [
        field
        for field in BUSINESS_FIELDS
        if (compare_metadata or field != "metadata") and not (
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
