import secrets
import uuid

from django.db import models
from django.db.models import Q
from django.utils import timezone


def new_payout_id() -> str:
    return f"po_{secrets.token_hex(12)}"


class PayoutRunStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"


class PayoutRun(models.Model):
    """A request to pay every eligible restaurant in one currency up to a business date."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    currency = models.CharField(max_length=3)
    as_of = models.DateField()
    min_amount = models.BigIntegerField()
    status = models.CharField(max_length=16, choices=PayoutRunStatus.choices, default=PayoutRunStatus.QUEUED)
    eligible = models.IntegerField(default=0)
    created = models.IntegerField(default=0)
    skipped = models.IntegerField(default=0)
    total_amount = models.BigIntegerField(default=0)
    attempts = models.IntegerField(default=0)
    error = models.TextField(blank=True)
    requested_by = models.ForeignKey(
        "auth.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="payout_runs"
    )
    requested_at = models.DateTimeField(default=timezone.now)
    # When its task was last handed to the broker: a run queued for longer than the broker's
    # `retry` lost its task on the way (see payouts.services.payout_runs_resume_stale).
    queued_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-requested_at"]
        constraints = [
            models.CheckConstraint(condition=Q(min_amount__gte=1), name="run_min_amount_positive"),
            models.CheckConstraint(
                condition=Q(status__in=[choice.value for choice in PayoutRunStatus]), name="run_status_known"
            ),
        ]
        indexes = [
            models.Index(fields=["currency", "as_of"], name="run_currency_as_of_idx"),
            # The resume schedule's sweep, every minute: the few runs not finished yet.
            models.Index(fields=["queued_at"], condition=Q(status__in=["queued", "running"]),
                         name="run_unfinished_idx"),
        ]

    def __str__(self) -> str:
        return f"Run {self.currency} {self.as_of} ({self.status})"


class PayoutStatus(models.TextChoices):
    CREATED = "created", "Created"
    PAID = "paid", "Paid"
    FAILED = "failed", "Failed"


class Payout(models.Model):
    id = models.CharField(primary_key=True, max_length=64, default=new_payout_id, editable=False)
    run = models.ForeignKey(PayoutRun, null=True, blank=True, on_delete=models.PROTECT, related_name="payouts")
    restaurant = models.ForeignKey("ledger.Restaurant", on_delete=models.PROTECT, related_name="payouts")
    currency = models.CharField(max_length=3)
    as_of = models.DateField()
    amount = models.BigIntegerField()
    status = models.CharField(max_length=16, choices=PayoutStatus.choices, default=PayoutStatus.CREATED)
    created_at = models.DateTimeField(default=timezone.now)
    paid_at = models.DateTimeField(null=True, blank=True)
    failed_at = models.DateTimeField(null=True, blank=True)
    failure_reason = models.TextField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        permissions = [("export_payout", "Can export payouts as CSV")]
        constraints = [
            models.UniqueConstraint(fields=["restaurant", "currency", "as_of"], name="payout_one_per_restaurant_day"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="payout_amount_positive"),
            models.CheckConstraint(
                condition=Q(status__in=[choice.value for choice in PayoutStatus]), name="payout_status_known"
            ),
        ]
        indexes = [
            models.Index(fields=["status", "currency"], name="payout_status_idx"),
            models.Index(fields=["as_of"], name="payout_as_of_idx"),
        ]

    def __str__(self) -> str:
        return self.id


class PayoutItemType(models.TextChoices):
    GROSS_SALES = "gross_sales", "Gross sales"
    FEES = "fees", "Processor fees"
    REFUNDS = "refunds", "Refunds"
    FEE_REFUNDS = "fee_refunds", "Fees returned"
    ADJUSTMENTS = "adjustments", "Manual adjustments"
    DISPUTES = "disputes", "Disputes (amounts and fees withdrawn)"
    DISPUTE_REVERSALS = "dispute_reversals", "Disputes won (reinstated)"
    CARRIED_BALANCE = "carried_balance", "Carried balance"


class PayoutItem(models.Model):
    """One line of a payout's breakdown; a payout's items sum exactly to its amount."""

    payout = models.ForeignKey(Payout, on_delete=models.PROTECT, related_name="items")
    type = models.CharField(max_length=32, choices=PayoutItemType.choices)
    amount = models.BigIntegerField()
    count = models.IntegerField(null=True, blank=True)

    class Meta:
        ordering = ["payout", "id"]
        constraints = [
            models.UniqueConstraint(fields=["payout", "type"], name="payout_item_one_per_type"),
            models.CheckConstraint(
                condition=Q(type__in=[choice.value for choice in PayoutItemType]), name="payout_item_type_known"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.payout_id} {self.type} {self.amount}"


class PayoutSettlement(models.Model):
    """Which payout settled a payable entry: each entry is settled at most once."""

    entry = models.OneToOneField("ledger.Entry", on_delete=models.PROTECT, related_name="settlement")
    payout = models.ForeignKey(Payout, on_delete=models.PROTECT, related_name="settlements")

    def __str__(self) -> str:
        return f"{self.payout_id} settles entry {self.entry_id}"
