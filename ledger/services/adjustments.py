"""Manual adjustments with four-eyes approval: propose, then approve (posts) or reject (posts nothing).

A Finance manager proposes; a different user holding `ledger.approve_adjustment`
decides. Proposals and decisions are append-only rows (the database refuses
UPDATE and DELETE); the database also refuses a decision by the proposer and a
second decision, and lets only an approved adjustment have a ledger transaction.
The checks here come first so people get a clear message; the database is the
last line.

Approval locks the restaurant's balance row (like a payout), records the
decision and posts the transaction in one database transaction: an approved
adjustment without its posting, or a posting without its approval, cannot commit.
"""

import logging

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.utils import timezone

from audit.models import AuditAction
from audit.services import audit_record
from mesa247.identifiers import RESTAURANT_ID_RE
from mesa247.money import MAX_AMOUNT, is_minor_units, unsupported_currency

from ..exceptions import (
    AdjustmentAlreadyDecided,
    AdjustmentInvalid,
    AdjustmentNotFound,
    AdjustmentNotPermitted,
    AdjustmentSelfApproval,
)
from ..models import (
    AccountKind,
    Adjustment,
    AdjustmentDecision,
    AdjustmentDecisionKind,
    AdjustmentReason,
    Restaurant,
)
from .accounts import accounts_ensure, balance_lock, house_account_ensure
from .posting import transactions_post
from .recipes import adjustment_posting

logger = logging.getLogger("mesa247.ledger")

PROPOSE_PERMISSION = "ledger.add_adjustment"
APPROVE_PERMISSION = "ledger.approve_adjustment"


def adjustment_validate(*, restaurant_id: str, currency: str, amount: object, reason: str, note: str,
                         reference: str) -> dict[str, list[str]]:
    """Field errors of a proposal ({} when valid): `adjustment_propose` refuses them, the add form shows them."""
    errors: dict[str, list[str]] = {}
    if not isinstance(restaurant_id, str) or not RESTAURANT_ID_RE.match(restaurant_id):
        errors["restaurant_id"] = ["Must be 1–64 characters of [A-Za-z0-9_.-]."]
    elif not Restaurant.objects.filter(pk=restaurant_id).exists():
        errors["restaurant_id"] = [f"No restaurant {restaurant_id!r} has any recorded activity."]
    if problem := unsupported_currency(currency):
        errors["currency"] = [problem]
    if not is_minor_units(amount):
        errors["amount"] = ["Must be an integer number of minor units."]
    elif amount == 0:
        errors["amount"] = ["Must not be 0: positive credits the restaurant, negative debits it."]
    elif abs(amount) > MAX_AMOUNT:
        errors["amount"] = [f"Must be at most {MAX_AMOUNT} in absolute value."]
    if reason not in AdjustmentReason.values:
        errors["reason"] = [f"Use one of {', '.join(AdjustmentReason.values)}."]
    if not isinstance(note, str) or not note.strip():
        errors["note"] = ["Say why: the approver reads it."]
    if not isinstance(reference, str) or len(reference) > 128:
        errors["reference"] = ["At most 128 characters."]
    return errors


# Not durable: a proposal moves no money, and the admin's add view saves inside its own transaction.
@transaction.atomic
def adjustment_propose(*, restaurant_id: str, currency: str, amount: int, reason: str, note: str,
                       reference: str = "", proposed_by: User, address: str | None = None) -> Adjustment:
    """Record a proposal, and who made it from which `address` in the audit trail. Nothing moves until a
    different user approves it."""
    if not proposed_by.has_perm(PROPOSE_PERMISSION):
        raise AdjustmentNotPermitted(f"Proposing an adjustment needs the permission {PROPOSE_PERMISSION}.")
    errors = adjustment_validate(restaurant_id=restaurant_id, currency=currency, amount=amount, reason=reason,
                                  note=note, reference=reference)
    if errors:
        raise AdjustmentInvalid("One or more fields are invalid.", errors=errors)
    adjustment = Adjustment.objects.create(
        restaurant_id=restaurant_id, currency=currency, amount=amount, reason=reason, note=note.strip(),
        reference=reference.strip(), proposed_by=proposed_by, proposed_at=timezone.now(),
    )
    audit_record(action=AuditAction.ADJUSTMENT_PROPOSED, actor=proposed_by, address=address, obj=adjustment,
                 after=_adjustment_state(adjustment, status="pending"))
    logger.info("adjustment proposed", extra={"adjustment_id": adjustment.pk, "restaurant_id": restaurant_id,
                                              "amount": amount, "currency": currency})
    return adjustment


def adjustment_approve(*, adjustment_id: int, decided_by: User, address: str | None = None) -> AdjustmentDecision:
    """Approve and post: house adjustments against the restaurant's payable, available at once."""
    return _adjustment_decide(adjustment_id=adjustment_id, decided_by=decided_by,
                              decision=AdjustmentDecisionKind.APPROVED, address=address)


def adjustment_reject(*, adjustment_id: int, decided_by: User, address: str | None = None) -> AdjustmentDecision:
    """Reject: the decision is recorded and nothing is posted."""
    return _adjustment_decide(adjustment_id=adjustment_id, decided_by=decided_by,
                              decision=AdjustmentDecisionKind.REJECTED, address=address)


def _adjustment_state(adjustment: Adjustment, *, status: str) -> dict[str, object]:
    """An adjustment as the audit trail records it."""
    return {"restaurant_id": adjustment.restaurant_id, "currency": adjustment.currency, "amount": adjustment.amount,
            "reason": adjustment.reason, "note": adjustment.note, "reference": adjustment.reference, "status": status}


def _adjustment_decide(*, adjustment_id: int, decided_by: User, decision: str,
                       address: str | None = None) -> AdjustmentDecision:
    try:
        return _adjustment_decide_locked(adjustment_id=adjustment_id, decided_by=decided_by, decision=decision,
                                         address=address)
    except IntegrityError:
        # A concurrent decision committed between our check and insert: the one-decision key refused ours.
        if AdjustmentDecision.objects.filter(adjustment_id=adjustment_id).exists():
            raise AdjustmentAlreadyDecided(f"Adjustment {adjustment_id} has already been decided.") from None
        raise


@transaction.atomic(durable=True)
def _adjustment_decide_locked(*, adjustment_id: int, decided_by: User, decision: str,
                              address: str | None = None) -> AdjustmentDecision:
    if not decided_by.has_perm(APPROVE_PERMISSION):
        raise AdjustmentNotPermitted(f"Deciding an adjustment needs the permission {APPROVE_PERMISSION}.")
    adjustment = Adjustment.objects.select_for_update().filter(pk=adjustment_id).first()
    if adjustment is None:
        raise AdjustmentNotFound(f"No adjustment {adjustment_id!r} exists.")
    if adjustment.proposed_by_id == decided_by.pk:
        raise AdjustmentSelfApproval(
            f"You proposed adjustment {adjustment.pk}: another approver must decide it (four-eyes rule)."
        )
    if AdjustmentDecision.objects.filter(adjustment=adjustment).exists():
        raise AdjustmentAlreadyDecided(f"Adjustment {adjustment.pk} has already been decided.")
    now = timezone.now()
    if decision == AdjustmentDecisionKind.APPROVED:
        # Like a payout: whatever reads this restaurant's balance to decide waits for the posting.
        balance_lock(restaurant_id=adjustment.restaurant_id, currency=adjustment.currency)
    recorded = AdjustmentDecision.objects.create(adjustment=adjustment, decision=decision, decided_by=decided_by,
                                                 decided_at=now)
    if decision == AdjustmentDecisionKind.APPROVED:
        accounts = accounts_ensure(restaurant_id=adjustment.restaurant_id, currency=adjustment.currency)
        house = house_account_ensure(kind=AccountKind.HOUSE_ADJUSTMENTS, currency=adjustment.currency)
        transactions_post(postings=[adjustment_posting(adjustment=adjustment, accounts=accounts, house=house,
                                                       at=now)])
    audit_record(action=AuditAction.ADJUSTMENT_DECIDED, actor=decided_by, address=address, obj=adjustment,
                 before={"status": "pending"}, after={"status": decision})
    logger.info("adjustment decided", extra={"adjustment_id": adjustment.pk, "decision": decision})
    return recorded
