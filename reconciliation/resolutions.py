"""Resolving an exception (SPEC §12): record the event from the report, apply the report's payout status, or
explain it. Each is recorded on the exception with who, when and a note.

Money moves only through the services a webhook goes through: `event_ingest` (the same validation,
postings and idempotency) and the payout lifecycle (`payout_mark_paid` / `payout_mark_failed`). Like
`processor/ingestion.py`, whose edge it calls (the event serializer's checks), this module sits beside
the services rather than in them.
"""

import logging
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from audit.models import AuditAction
from audit.services import audit_record
from mesa247.domain_errors import ApplicationError, InvalidInput
from mesa247.observability import log_context
from payouts.models import Payout, PayoutStatus
from payouts.services import payout_mark_failed, payout_mark_paid
from processor.ingestion import event_ingest
from processor.models import Event

from .exceptions import ExceptionAlreadyResolved, ExceptionNotFound, ResolutionNotApplicable
from .models import (
    EVENT_TYPE_OF_CATEGORY,
    Category,
    EventReconciliation,
    EventState,
    Outcome,
    ReconciliationException,
    ReportCurrencyTotal,
    ResolutionAction,
    SettlementLine,
    SettlementReport,
)

logger = logging.getLogger("mesa247.reconciliation")

PERSON_ACTIONS = (ResolutionAction.RECORD_FROM_REPORT, ResolutionAction.APPLY_PAYOUT_STATUS,
                  ResolutionAction.EXPLAIN)
NOTE_MAX_CHARS = 2000


@dataclass(frozen=True)
class ReportedPayoutStatus:
    """The report's word on a payout, in the shape the payout lifecycle reads of a payout event."""

    event_id: str  # "report_id/line_id": the ledger transaction's memo
    payout_ref: str
    restaurant_id: str
    currency: str
    amount: int
    occurred_at: datetime
    fee: int = 0
    pk: None = None  # no processor event: the posting names its payout only
    metadata: dict | None = None


def exception_resolve(*, exception_id: int, action: str, note: str, user, actor_label: str | None = None,
                      address: str | None = None) -> ReconciliationException:
    """Resolve one open exception with `action`; 409 if it is resolved already, 422 if the action does not fit.

    `actor_label` (e.g. "token:<name>") and `address` are the resolver's, for the audit trail."""
    if action not in PERSON_ACTIONS:
        raise InvalidInput("The resolution is invalid.",
                           errors={"action": [f"Must be one of {', '.join(PERSON_ACTIONS)}."]})
    note = (note or "").strip()
    if not note:
        raise InvalidInput("The resolution is invalid.", errors={"note": ["Say why: a note is required."]})
    if len(note) > NOTE_MAX_CHARS:
        raise InvalidInput("The resolution is invalid.",
                           errors={"note": [f"Must be at most {NOTE_MAX_CHARS} characters."]})
    exception = _exception_get(exception_id)
    with log_context(exception_id=exception_id):
        _ensure_open(exception)
        if action == ResolutionAction.RECORD_FROM_REPORT:
            _record_from_report(exception)
        elif action == ResolutionAction.APPLY_PAYOUT_STATUS:
            return _apply_payout_status(exception, note=note, user=user, actor_label=actor_label, address=address)
        return _resolution_save(exception_id, action=action, note=note, user=user, actor_label=actor_label,
                                address=address)


def exceptions_resolve(*, exception_ids: list[int], action: str, note: str, user, actor_label: str | None = None,
                       address: str | None = None) -> dict[int, str | None]:
    """Resolve several (the admin's bulk actions): each on its own, the error of each that could not be."""
    outcome: dict[int, str | None] = {}
    for exception_id in exception_ids:
        try:
            exception_resolve(exception_id=exception_id, action=action, note=note, user=user,
                              actor_label=actor_label, address=address)
        except ApplicationError as error:
            outcome[exception_id] = error.detail
        else:
            outcome[exception_id] = None
    return outcome


def _exception_get(exception_id: int) -> ReconciliationException:
    exception = ReconciliationException.objects.select_related("line", "payout").filter(pk=exception_id).first()
    if exception is None:
        raise ExceptionNotFound(f"No reconciliation exception {exception_id} exists.", exception_id=exception_id)
    return exception


def _ensure_open(exception: ReconciliationException) -> None:
    if not exception.is_open:
        raise ExceptionAlreadyResolved(
            f"Exception {exception.pk} was already resolved ({exception.action}); nothing was changed.",
            exception_id=exception.pk, action=exception.action)


def _record_from_report(exception: ReconciliationException) -> None:
    """The line's event through the ingestion service, marked as coming from the report. A retry after a
    failure between this and the resolution's commit replays it (writes nothing) and resolves."""
    line = exception.line
    if exception.outcome != Outcome.MISSING_FROM_LEDGER or line is None or line.category not in EVENT_TYPE_OF_CATEGORY:
        raise ResolutionNotApplicable(
            "record_from_report fits a missing_from_ledger line of a charge, refund, dispute or dispute_reversal; "
            f"exception {exception.pk} is {exception.outcome}"
            + (f" of a {line.category} line." if line is not None else "."),
            exception_id=exception.pk, outcome=exception.outcome)
    payload = {
        "event_id": line.source_id,
        "event_type": EVENT_TYPE_OF_CATEGORY[line.category],
        "occurred_at": line.occurred_at.isoformat(),
        "restaurant_id": line.restaurant_id,
        "currency": line.currency,
        "amount": line.amount,
        "fee": line.fee,
        "metadata": {"payment_id": line.payment_id} if line.payment_id else {},
    }
    try:
        event_ingest(payload=payload, from_report=f"{line.report_id}/{line.line_id}")
    except InvalidInput as error:
        # The report's line is no event the ingestion accepts (e.g. a dispute without its dispute_id).
        raise ResolutionNotApplicable(
            f"The line cannot be recorded as an event: {error.detail}", exception_id=exception.pk,
            errors=error.errors) from None


def _apply_payout_status(exception: ReconciliationException, *, note: str, user, actor_label: str | None,
                         address: str | None) -> ReconciliationException:
    line = exception.line
    payout = exception.payout
    if (exception.outcome != Outcome.MISMATCHED or exception.fields != ["status"] or line is None
            or payout is None):
        raise ResolutionNotApplicable(
            "apply_payout_status fits a payout line whose only difference is the payout's status; "
            f"exception {exception.pk} is {exception.outcome} of {', '.join(exception.fields) or 'nothing'}.",
            exception_id=exception.pk, outcome=exception.outcome, fields=exception.fields)
    cause = ReportedPayoutStatus(event_id=f"{line.report_id}/{line.line_id}", payout_ref=payout.pk,
                                 restaurant_id=line.restaurant_id, currency=line.currency, amount=line.amount,
                                 occurred_at=line.occurred_at, metadata={"reason": "returned (settlement report)"})
    with transaction.atomic(durable=True):
        locked = ReconciliationException.objects.select_for_update().get(pk=exception.pk)
        _ensure_open(locked)
        status = Payout.objects.select_for_update().values_list("status", flat=True).get(pk=payout.pk)
        if line.category == Category.PAYOUT and status == PayoutStatus.CREATED:
            posted = payout_mark_paid(event=cause)
        elif line.category == Category.PAYOUT_RETURN and status == PayoutStatus.PAID:
            posted = payout_mark_failed(event=cause)
        else:
            raise ResolutionNotApplicable(
                f"Payout {payout.pk} is {status}: a {line.category} line cannot be applied to it.",
                exception_id=exception.pk, payout_status=status)
        # The posting names no event: the processor's webhook for this status, if it comes later, confirms it.
        locked.ledger_transaction_id = posted
        return _resolved(locked, action=ResolutionAction.APPLY_PAYOUT_STATUS, note=note, user=user,
                         actor_label=actor_label, address=address)


@transaction.atomic(durable=True)
def _resolution_save(exception_id: int, *, action: str, note: str, user, actor_label: str | None,
                     address: str | None) -> ReconciliationException:
    locked = ReconciliationException.objects.select_for_update().get(pk=exception_id)
    _ensure_open(locked)
    return _resolved(locked, action=action, note=note, user=user, actor_label=actor_label, address=address)


def _resolved(exception: ReconciliationException, *, action: str, note: str, user, actor_label: str | None,
              address: str | None) -> ReconciliationException:
    """Record the resolution; a line the ledger now agrees with becomes matched, and its report's counts say so."""
    now = timezone.now()
    exception.action, exception.note, exception.resolved_by, exception.resolved_at = action, note, user, now
    exception.save(update_fields=["action", "note", "resolved_by", "resolved_at", "ledger_transaction"])
    audit_record(action=AuditAction.RECONCILIATION_EXCEPTION_RESOLVED, actor=user, actor_label=actor_label,
                 address=address, obj=exception,
                 before={"resolved": False}, after={"resolved": True, "action": action, "note": note},
                 detail={"outcome": exception.outcome, "line_id": exception.line_id})
    line = exception.line
    if action == ResolutionAction.RECORD_FROM_REPORT and line is not None:
        event_pk = Event.objects.values_list("pk", flat=True).get(event_id=line.source_id)
        SettlementLine.objects.filter(pk=line.pk).update(outcome=Outcome.MATCHED, event_id=event_pk, fields=[])
        EventReconciliation.objects.update_or_create(
            event_id=event_pk, defaults={"state": EventState.MATCHED, "line": line, "updated_at": now})
        ReconciliationException.objects.filter(pk=exception.pk).update(event_id=event_pk)
        _counts_move(line, from_outcome="missing_from_ledger")
    elif action == ResolutionAction.APPLY_PAYOUT_STATUS and line is not None:
        SettlementLine.objects.filter(pk=line.pk).update(outcome=Outcome.MATCHED, fields=[])
        _counts_move(line, from_outcome="mismatched")
    logger.info("reconciliation exception resolved", extra={"action": action, "outcome": exception.outcome})
    return exception


def _counts_move(line: SettlementLine, *, from_outcome: str) -> None:
    SettlementReport.objects.filter(pk=line.report_id).update(
        matched=F("matched") + 1, **{from_outcome: F(from_outcome) - 1})
    ReportCurrencyTotal.objects.filter(report_id=line.report_id, currency=line.currency).update(
        matched_net=F("matched_net") + line.net)
