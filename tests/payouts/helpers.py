"""Payout runs, payout events and their readings for the payout tests (charges and refunds: tests.helpers)."""

from datetime import date

from ledger.selectors import balance_get
from payouts.models import Payout, PayoutRun
from payouts.selectors import payout_items
from payouts.services import payout_run_execute, payout_run_request


def payout_paid_payload(payout: Payout, *, event_id: str, at: str = "2026-01-05T12:00:00Z", **overrides) -> dict:
    payload = {
        "event_id": event_id,
        "event_type": "payout_paid",
        "occurred_at": at,
        "restaurant_id": payout.restaurant_id,
        "currency": payout.currency,
        "amount": payout.amount,
        "fee": 0,
        "metadata": {"payout_id": payout.pk},
    }
    payload.update(overrides)
    return payload


def payout_failed_payload(payout: Payout, *, event_id: str, reason: str | None = "account_closed",
                          at: str = "2026-01-06T12:00:00Z", **overrides) -> dict:
    payload = payout_paid_payload(payout, event_id=event_id, at=at, event_type="payout_failed", **overrides)
    if reason is not None:
        payload["metadata"] = {**payload["metadata"], "reason": reason}
    return payload


def run(as_of: str, *, min_amount: int = 1, currency: str = "PEN") -> PayoutRun:
    """Request a run (without queueing it) and execute it in-process, as the worker would."""
    requested = payout_run_request(currency=currency, as_of=date.fromisoformat(as_of), min_amount=min_amount,
                                   enqueue=False)
    return payout_run_execute(run_id=requested.pk)


def items_of(payout: Payout) -> dict:
    return {line.type: (line.amount, line.count) for line in payout_items(payout=payout)}


def available_reserved(restaurant_id: str, currency: str = "PEN") -> tuple[int, int]:
    balance = balance_get(restaurant_id=restaurant_id, currency=currency)
    return balance.available, balance.reserved


def payout_of(restaurant_id: str, as_of: str, currency: str = "PEN") -> Payout | None:
    return Payout.objects.filter(restaurant_id=restaurant_id, as_of=as_of, currency=currency).first()
