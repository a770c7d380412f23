"""Disputes (chargebacks): a dispute_opened event opens one and posts the withdrawal, a dispute_won or
dispute_lost event decides it once.

Called by the ingestion service inside the event's own database transaction, after the event's INSERT:
a rejection (422) rolls the event back with everything else, so the processor's retry of a decision
that arrived before its opening succeeds once the opening is recorded. The database holds the same
lifecycle (processor/sql/dispute_lifecycle.sql); the checks here come first to answer 422.
"""

from django.db import IntegrityError, transaction

from ledger.services import (
    accounts_ensure,
    balance_event_seen,
    dispute_opened_posting,
    dispute_won_posting,
    transactions_post,
)

from .exceptions import DisputeEventRejected
from .models import Dispute, DisputeStatus, Event, EventType


def dispute_event_apply(*, event: Event) -> int | None:
    """Apply a stored dispute event; the id of the ledger transaction it posted (None for a lost dispute)."""
    if event.event_type == EventType.DISPUTE_OPENED:
        return _dispute_open(event=event)
    return _dispute_decide(event=event)


def _dispute_open(*, event: Event) -> int:
    dispute_id = event.metadata["dispute_id"]
    try:
        with transaction.atomic():  # a savepoint: a taken dispute_id is an answer, not a broken transaction
            Dispute.objects.create(
                dispute_id=dispute_id, payment_id=event.metadata["payment_id"], restaurant_id=event.restaurant_id,
                currency=event.currency, amount=event.amount, fee=event.fee, opened_at=event.occurred_at,
                opened_event=event,
            )
    except IntegrityError:
        raise DisputeEventRejected(
            f"Dispute {dispute_id!r} was already opened by another event; nothing was written.",
            code="dispute_already_opened", dispute_id=dispute_id,
        ) from None
    accounts = accounts_ensure(restaurant_id=event.restaurant_id, currency=event.currency)
    return transactions_post(postings=[dispute_opened_posting(event=event, accounts=accounts)])[0]


def _dispute_decide(*, event: Event) -> int | None:
    dispute_id = event.metadata["dispute_id"]
    # Locked: a concurrent second decision waits here, then finds the dispute decided.
    dispute = Dispute.objects.select_for_update().filter(dispute_id=dispute_id).first()
    if dispute is None:
        raise DisputeEventRejected(
            f"No dispute {dispute_id!r} is open: its dispute_opened event has not arrived; nothing was written.",
            code="dispute_not_found", dispute_id=dispute_id,
        )
    if dispute.status != DisputeStatus.OPEN:
        raise DisputeEventRejected(
            f"Dispute {dispute_id!r} was already decided ({dispute.status}); nothing was written.",
            code="dispute_already_decided", dispute_id=dispute_id, dispute_status=dispute.status,
        )
    mismatched = _decision_mismatches(dispute=dispute, event=event)
    if mismatched:
        raise DisputeEventRejected(
            f"The decision does not match dispute {dispute_id!r}: {'; '.join(mismatched.values())}. "
            "Nothing was written.",
            code="dispute_mismatch", dispute_id=dispute_id, fields=sorted(mismatched),
        )
    won = event.event_type == EventType.DISPUTE_WON
    dispute.status = DisputeStatus.WON if won else DisputeStatus.LOST
    dispute.reinstated = event.amount if won else 0
    dispute.fee_returned = event.fee if won else 0
    dispute.closed_at = event.occurred_at
    dispute.decision_event = event
    dispute.save(update_fields=["status", "reinstated", "fee_returned", "closed_at", "decision_event"])
    if not won:  # the money left when the dispute opened; the balance still saw an event
        balance_event_seen(restaurant_id=event.restaurant_id, currency=event.currency,
                           occurred_at=event.occurred_at)
        return None
    accounts = accounts_ensure(restaurant_id=event.restaurant_id, currency=event.currency)
    return transactions_post(postings=[dispute_won_posting(event=event, accounts=accounts)])[0]


def _decision_mismatches(*, dispute: Dispute, event: Event) -> dict[str, str]:
    """Field → why the decision cannot apply to the dispute; empty when it can."""
    found = {}
    if event.restaurant_id != dispute.restaurant_id:
        found["restaurant_id"] = f"it is {dispute.restaurant_id}'s"
    if event.currency != dispute.currency:
        found["currency"] = f"it is in {dispute.currency}"
    payment_id = event.metadata.get("payment_id")
    if payment_id is not None and payment_id != dispute.payment_id:
        found["metadata"] = f"it disputes payment {dispute.payment_id}"
    if event.event_type == EventType.DISPUTE_WON:
        if event.amount > dispute.amount:
            found["amount"] = f"at most the disputed {dispute.amount} can be reinstated"
        if event.fee > dispute.fee:
            found["fee"] = f"at most its fee {dispute.fee} can be returned"
    elif event.amount != dispute.amount:
        found["amount"] = f"a lost dispute names the disputed amount {dispute.amount}"
    return found
