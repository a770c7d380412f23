"""Reads of what the processor told us: its disputes."""

from django.db.models import Count, QuerySet, Sum

from .exceptions import DisputeNotFound
from .models import Dispute, DisputeStatus


def dispute_list(*, restaurant_id: str | None = None, status: str | None = None,
                 currency: str | None = None) -> QuerySet[Dispute]:
    """Disputes, filtered; the caller orders and pages them."""
    disputes = Dispute.objects.all()
    if restaurant_id:
        disputes = disputes.filter(restaurant_id=restaurant_id)
    if status:
        disputes = disputes.filter(status=status)
    if currency:
        disputes = disputes.filter(currency=currency)
    return disputes


def dispute_get(*, dispute_id: str) -> Dispute:
    dispute = Dispute.objects.filter(dispute_id=dispute_id).first()
    if dispute is None:
        raise DisputeNotFound(f"No dispute {dispute_id!r} exists.", dispute_id=dispute_id)
    return dispute


def disputes_open_totals() -> dict[str, tuple[int, int]]:
    """Per currency, (how many disputes are open, the amount they dispute, fees apart). One grouped query."""
    rows = (
        Dispute.objects.filter(status=DisputeStatus.OPEN)
        .order_by()
        .values("currency")
        .annotate(disputes=Count("id"), disputed=Sum("amount"))
    )
    return {row["currency"]: (row["disputes"], row["disputed"]) for row in rows}
