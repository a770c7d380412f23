"""Payout services (payout runs and the payout lifecycle)."""

from processor.exceptions import PayoutEventRejected


def payout_event_apply(*, event) -> None:
    """Apply a payout_paid / payout_failed event. Until payouts exist, every payout is unknown."""
    raise PayoutEventRejected(
        f"No payout {event.payout_ref!r} exists.", code="payout_not_found", payout_id=event.payout_ref
    )
