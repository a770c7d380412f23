"""The payout lifecycle: payout_paid and payout_failed events move a payout and post its reversal.

    created → paid        reserve settled against the processor   (PAYOUT_PAID)
    created → failed      reserve back to payable                 (PAYOUT_FAILED)
    paid    → failed      the bank returned it: back to payable   (PAYOUT_RETURNED)

`failed` is terminal. Anything else is refused with PayoutEventRejected (422)
and the event's transaction rolls back: nothing is written.

A status can also come from the processor's settlement report (reconciliation's apply_payout_status):
its posting names the payout but no event. The processor's own webhook for that status, arriving later,
is then no transition but a confirmation: `payout_status_apply` answers with the report's posting and
posts nothing (`posted` False), if the caller says that posting may still be confirmed.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from ledger.models import Transaction, TransactionKind
from ledger.services import (
    accounts_ensure,
    payout_failed_posting,
    payout_paid_posting,
    payout_returned_posting,
    transactions_post,
)
from mesa247.metrics import payout_counted
from mesa247.observability import log_context

from ..exceptions import PayoutEventRejected
from ..models import Payout, PayoutStatus

logger = logging.getLogger("mesa247.payouts")

ALLOWED_TRANSITIONS = {
    (PayoutStatus.CREATED, PayoutStatus.PAID),
    (PayoutStatus.CREATED, PayoutStatus.FAILED),
    (PayoutStatus.PAID, PayoutStatus.FAILED),
}


# The postings that put a payout in each status it can be confirmed in.
KINDS_OF_STATUS = {
    PayoutStatus.PAID: (TransactionKind.PAYOUT_PAID,),
    PayoutStatus.FAILED: (TransactionKind.PAYOUT_FAILED, TransactionKind.PAYOUT_RETURNED),
}


@dataclass(frozen=True)
class PayoutStatusApplied:
    ledger_transaction_id: int
    # False: the payout already had this status from a settlement report's line; the id is that line's
    # posting, which the event confirms, and nothing was posted.
    posted: bool


def payout_mark_paid(*, event) -> int:
    """A payout_paid event: created → paid. The id of the ledger transaction it posts."""
    return _payout_status_change(event=event, target=PayoutStatus.PAID).ledger_transaction_id


def payout_mark_failed(*, event) -> int:
    """A payout_failed event: created → failed, or paid → failed when the bank returned it. Its transaction's id."""
    return _payout_status_change(event=event, target=PayoutStatus.FAILED).ledger_transaction_id


def payout_status_apply(*, event, target: str, confirmable: Callable[[int], bool]) -> PayoutStatusApplied:
    """A payout event (the processor's webhook) that moves its payout to `target`, or confirms that status.

    When the payout already is in `target` by a posting that names no event (a settlement report's line,
    applied by reconciliation) and `confirmable(that posting's id)` — the caller keeps which postings an
    event confirmed, one event each — the event confirms it: nothing is posted or changed. Otherwise as
    `payout_mark_paid` / `payout_mark_failed`, with the same 422s.
    """
    return _payout_status_change(event=event, target=target, confirmable=confirmable)


def _payout_status_change(*, event, target: str,
                          confirmable: Callable[[int], bool] | None = None) -> PayoutStatusApplied:
    """Apply a payout event inside the ingestion's transaction.

    Raises PayoutEventRejected (422) for an unknown payout, a restaurant,
    currency or amount that differs from the payout's, or an illegal
    transition; the caller's transaction then rolls back and nothing is written.
    """
    payout_id = event.payout_ref
    # Lock before checking the status: concurrent events for one payout apply one after the other.
    payout = Payout.objects.select_for_update().filter(pk=payout_id).first()
    if payout is None:
        raise PayoutEventRejected(f"No payout {payout_id!r} exists.", code="payout_not_found", payout_id=payout_id)

    mismatched = [
        field
        for field, expected, given in (
            ("restaurant_id", payout.restaurant_id, event.restaurant_id),
            ("currency", payout.currency, event.currency),
            ("amount", payout.amount, event.amount),
        )
        if expected != given
    ]
    if mismatched:
        raise PayoutEventRejected(
            f"The event does not match payout {payout.pk}: {', '.join(mismatched)} differ.",
            code="payout_mismatch",
            payout_id=payout.pk,
            fields=mismatched,
            errors={
                field: [f"Payout {payout.pk} has {getattr(payout, field)!r}."] for field in mismatched
            },
        )
    if payout.status == target and confirmable is not None:
        reported = _posting_without_event(payout=payout)
        if reported is not None and confirmable(reported):
            with log_context(payout_id=payout.pk):
                logger.info("payout status confirmed", extra={"status": target, "ledger_transaction_id": reported})
            return PayoutStatusApplied(reported, posted=False)
    if (payout.status, target) not in ALLOWED_TRANSITIONS:
        raise PayoutEventRejected(
            f"Payout {payout.pk} is {payout.status}; it cannot become {target}.",
            code="payout_transition_invalid",
            payout_id=payout.pk,
            payout_status=payout.status,
        )

    accounts = accounts_ensure(restaurant_id=payout.restaurant_id, currency=payout.currency)
    if target == PayoutStatus.PAID:
        recipe = payout_paid_posting
        payout.paid_at = event.occurred_at
    else:
        recipe = payout_failed_posting if payout.status == PayoutStatus.CREATED else payout_returned_posting
        payout.failed_at = event.occurred_at
        reason = (event.metadata or {}).get("reason")
        payout.failure_reason = reason if isinstance(reason, str) else None
    posting = recipe(payout=payout, event=event, accounts=accounts, at=timezone.now())
    (ledger_transaction_id,) = transactions_post(postings=[posting])
    payout.status = target
    payout.save(update_fields=["status", "paid_at", "failed_at", "failure_reason"])
    currency = payout.currency
    transaction.on_commit(lambda: payout_counted(currency=currency, status=target))
    with log_context(payout_id=payout.pk):
        logger.info("payout status changed", extra={"status": target, "ledger_kind": posting.kind})
    return PayoutStatusApplied(ledger_transaction_id, posted=True)


def _posting_without_event(*, payout: Payout) -> int | None:
    """The id of the posting that put the payout in its current status, if no event caused it (a report's line)."""
    kinds = KINDS_OF_STATUS.get(PayoutStatus(payout.status), ())
    return (Transaction.objects.filter(payout_id=payout.pk, kind__in=kinds, event_id__isnull=True)
            .values_list("pk", flat=True).first())
