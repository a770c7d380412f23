from django.db import models
from django.db.models import Q
from django.utils import timezone


class EventType(models.TextChoices):
    CHARGE_SUCCEEDED = "charge_succeeded", "Charge succeeded"
    REFUND_SUCCEEDED = "refund_succeeded", "Refund succeeded"
    PAYOUT_PAID = "payout_paid", "Payout paid"
    PAYOUT_FAILED = "payout_failed", "Payout failed"


# The two kinds of processor event: money moving for a reservation, and the bank's word on a payout.
MONEY_EVENT_TYPES = [EventType.CHARGE_SUCCEEDED.value, EventType.REFUND_SUCCEEDED.value]
PAYOUT_EVENT_TYPES = [EventType.PAYOUT_PAID.value, EventType.PAYOUT_FAILED.value]


class Event(models.Model):
    """A fact reported by the payment processor, stored once per event_id, forever."""

    event_id = models.CharField(max_length=128, unique=True)
    event_type = models.CharField(max_length=32, choices=EventType.choices)
    occurred_at = models.DateTimeField()
    restaurant_id = models.CharField(max_length=64)
    currency = models.CharField(max_length=3)
    amount = models.BigIntegerField()
    fee = models.BigIntegerField(default=0)
    metadata = models.JSONField(default=dict, blank=True)
    # Copied out of metadata so they can be indexed, searched and joined.
    payment_id = models.CharField(max_length=128, null=True, blank=True)
    payout_ref = models.CharField("payout id", max_length=64, null=True, blank=True)
    received_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["restaurant_id", "currency", "occurred_at"], name="event_restaurant_time_idx"),
            models.Index(fields=["payment_id"], name="event_payment_idx"),
            models.Index(fields=["payout_ref"], name="event_payout_idx"),
            models.Index(fields=["event_type", "occurred_at"], name="event_type_time_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__gt=0) & Q(amount__lte=10**12), name="event_amount_positive"
            ),
            models.CheckConstraint(condition=Q(fee__gte=0) & Q(fee__lte=models.F("amount")), name="event_fee_range"),
            models.CheckConstraint(
                condition=Q(event_type__in=[choice.value for choice in EventType]), name="event_type_known"
            ),
        ]

    def __str__(self) -> str:
        return self.event_id
