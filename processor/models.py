from django.db import models
from django.db.models import Q
from django.db.models.fields.related_descriptors import ReverseOneToOneDescriptor
from django.db.models.fields.reverse_related import ForeignObjectRel
from django.utils import timezone


class EventType(models.TextChoices):
    CHARGE_SUCCEEDED = "charge_succeeded", "Charge succeeded"
    REFUND_SUCCEEDED = "refund_succeeded", "Refund succeeded"
    PAYOUT_PAID = "payout_paid", "Payout paid"
    PAYOUT_FAILED = "payout_failed", "Payout failed"
    DISPUTE_OPENED = "dispute_opened", "Dispute opened"
    DISPUTE_WON = "dispute_won", "Dispute won"
    DISPUTE_LOST = "dispute_lost", "Dispute lost"


# The two kinds of processor event: money moving for a reservation, and the bank's word on a payout.
MONEY_EVENT_TYPES = [EventType.CHARGE_SUCCEEDED.value, EventType.REFUND_SUCCEEDED.value]
PAYOUT_EVENT_TYPES = [EventType.PAYOUT_PAID.value, EventType.PAYOUT_FAILED.value]
# A diner's dispute of a charge: its opening, then the decision that closes it.
DISPUTE_EVENT_TYPES = [EventType.DISPUTE_OPENED.value, EventType.DISPUTE_WON.value, EventType.DISPUTE_LOST.value]
DISPUTE_DECISION_TYPES = [EventType.DISPUTE_WON.value, EventType.DISPUTE_LOST.value]


class _OneToOneRel(ForeignObjectRel):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.multiple = False


class _OptionalReverseOneToOne(ReverseOneToOneDescriptor):
    """`transaction.event`: the event, or None for a transaction no event caused (as a nullable key reads)."""

    def __get__(self, instance, cls=None):
        if instance is None:
            return self
        if all(getattr(instance, target.attname) is None for target in self.related.field.foreign_related_fields):
            return None
        try:
            return super().__get__(instance, cls)
        except self.RelatedObjectDoesNotExist:
            return None


class LedgerTransactionOfEvent(models.ForeignObject):
    """The event's ledger transaction, joined on ledger_transaction.event_id = processor_event.id.

    The column is the ledger's (the posting writes it in its own statement), so the ledger's schema names no
    processor table, while both sides still read each other as a one-to-one: `event.ledger_transaction`,
    `transaction.event`, `select_related` and lookups either way. Holding the reference is processor's
    work (processor/sql/event_transaction_reference.sql).
    """

    many_to_one = False
    one_to_one = True
    # django-stubs types ForeignObject's reverse accessor as many-to-one only (OneToOneField's stub ignores it too).
    related_accessor_class = _OptionalReverseOneToOne  # type: ignore[assignment]
    rel_class = _OneToOneRel

    def __init__(self, to, **kwargs):
        kwargs.setdefault("on_delete", models.DO_NOTHING)
        kwargs.setdefault("from_fields", ["id"])
        kwargs.setdefault("to_fields", ["event_id"])
        kwargs.setdefault("null", True)
        kwargs.setdefault("unique", True)
        super().__init__(to, **kwargs)


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
    # No column: ledger_transaction.event_id holds the reference (see LedgerTransactionOfEvent).
    ledger_transaction = LedgerTransactionOfEvent("ledger.Transaction", related_name="event")

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
            # A dispute's fee is not bounded by the disputed amount (nor a won dispute's by what it reinstates).
            models.CheckConstraint(
                condition=Q(fee__gte=0) & (Q(fee__lte=models.F("amount")) | Q(event_type__in=DISPUTE_EVENT_TYPES)),
                name="event_fee_range",
            ),
            models.CheckConstraint(
                condition=Q(event_type__in=[choice.value for choice in EventType]), name="event_type_known"
            ),
        ]

    def __str__(self) -> str:
        return self.event_id


class DisputeStatus(models.TextChoices):
    OPEN = "open", "Open"
    WON = "won", "Won"
    LOST = "lost", "Lost"


class Dispute(models.Model):
    """A diner's dispute of a charge, as the processor reports it: opened, then won or lost, once.

    The lifecycle (open → won | lost, nothing else changes, nothing is deleted) is held by the
    database (processor/sql/dispute_lifecycle.sql); its events are the facts it was built from.
    """

    dispute_id = models.CharField(max_length=128, unique=True)
    payment_id = models.CharField(max_length=128)
    restaurant_id = models.CharField(max_length=64)
    currency = models.CharField(max_length=3)
    amount = models.BigIntegerField(help_text="Minor units the processor withdrew.")
    fee = models.BigIntegerField(help_text="The dispute fee the processor charged; the restaurant bears it.")
    status = models.CharField(max_length=8, choices=DisputeStatus.choices, default=DisputeStatus.OPEN)
    reinstated = models.BigIntegerField(default=0, help_text="Of the amount, what a won dispute gave back.")
    fee_returned = models.BigIntegerField(default=0, help_text="Of the fee, what a won dispute gave back.")
    opened_at = models.DateTimeField()
    closed_at = models.DateTimeField(null=True, blank=True)
    opened_event = models.OneToOneField(Event, on_delete=models.PROTECT, related_name="dispute_opened")
    decision_event = models.OneToOneField(
        Event, null=True, blank=True, on_delete=models.PROTECT, related_name="dispute_decided"
    )

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["restaurant_id", "currency", "-id"], name="dispute_restaurant_idx"),
            models.Index(fields=["status", "-id"], name="dispute_status_idx"),
            models.Index(fields=["payment_id"], name="dispute_payment_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0) & Q(amount__lte=10**12), name="dispute_amount_positive"),
            models.CheckConstraint(condition=Q(fee__gte=0) & Q(fee__lte=10**12), name="dispute_fee_range"),
            models.CheckConstraint(
                condition=Q(status__in=[choice.value for choice in DisputeStatus]), name="dispute_status_known"
            ),
            # Open: undecided. Won: gives back at most what was taken. Lost: gives back nothing.
            models.CheckConstraint(
                condition=(Q(status=DisputeStatus.OPEN) & Q(closed_at__isnull=True) & Q(decision_event__isnull=True)
                           & Q(reinstated=0) & Q(fee_returned=0))
                | (Q(status=DisputeStatus.WON) & Q(closed_at__isnull=False) & Q(decision_event__isnull=False)
                   & Q(reinstated__gt=0) & Q(reinstated__lte=models.F("amount"))
                   & Q(fee_returned__gte=0) & Q(fee_returned__lte=models.F("fee")))
                | (Q(status=DisputeStatus.LOST) & Q(closed_at__isnull=False) & Q(decision_event__isnull=False)
                   & Q(reinstated=0) & Q(fee_returned=0)),
                name="dispute_status_matches_decision",
            ),
        ]

    def __str__(self) -> str:
        return self.dispute_id


class EventFromReport(models.Model):
    """An event recorded from a line of the processor's settlement report, its webhook lost.

    A webhook that arrives later with the same business fields is a replay of it whatever metadata it
    adds (processor/services.py); the first such webhook's metadata is kept here, beside the event.
    """

    event = models.OneToOneField(Event, primary_key=True, on_delete=models.PROTECT, related_name="from_report")
    report_line = models.CharField(max_length=300, help_text="report_id/line_id of the line it came from.")
    recorded_at = models.DateTimeField(default=timezone.now)
    webhook_metadata = models.JSONField(null=True, blank=True)
    webhook_received_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.event_id} from {self.report_line}"


class PayoutEventConfirmation(models.Model):
    """A payout_paid / payout_failed webhook that came after a settlement report's line had set its payout's
    status (reconciliation's apply_payout_status): it posts nothing and confirms the line's posting.

    That posting names the payout and no event; this row makes it the event's ledger transaction, so every
    event still has exactly one, and one webhook at most confirms a posting (its unique key). The database
    holds the rest (processor/sql/payout_event_confirmation.sql); rows never change or go away.
    """

    event = models.OneToOneField(Event, primary_key=True, on_delete=models.PROTECT, related_name="confirmation")
    ledger_transaction = models.OneToOneField("ledger.Transaction", on_delete=models.PROTECT,
                                              related_name="confirmation",
                                              help_text="The report's posting of the payout's status.")
    confirmed_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.event_id} confirms ledger transaction {self.ledger_transaction_id}"
