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
    held = models.IntegerField(default=0, help_text="Restaurants owed a payout that a hold kept from being paid.")
    respect_schedules = models.BooleanField(
        default=False, help_text="Pay only restaurants whose payout schedule is due on the day of the request.")
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

    # Both references are checked once per INSERT statement by the payouts_settlement_check trigger
    # (payouts/sql/settlement_check.sql), where foreign keys would look up each row's.
    entry = models.OneToOneField("ledger.Entry", on_delete=models.PROTECT, related_name="settlement",
                                 db_constraint=False)
    payout = models.ForeignKey(Payout, on_delete=models.PROTECT, related_name="settlements", db_constraint=False)

    def __str__(self) -> str:
        return f"{self.payout_id} settles entry {self.entry_id}"


class PayoutHold(models.Model):
    """A finance manager's hold on a restaurant's payouts, in one currency or all (currency empty).

    Append-only (the database refuses UPDATE and DELETE): it ends with its PayoutHoldRelease.
    """

    restaurant = models.ForeignKey("ledger.Restaurant", on_delete=models.PROTECT, related_name="payout_holds")
    currency = models.CharField(max_length=3, null=True, blank=True,
                                help_text="Empty: the restaurant's payouts in every currency.")
    reason = models.TextField()
    placed_by = models.ForeignKey("auth.User", on_delete=models.PROTECT, related_name="payout_holds_placed")
    placed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-placed_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=~Q(reason=""), name="payout_hold_reason_given"),
            models.CheckConstraint(condition=Q(currency__isnull=True) | Q(currency__regex=r"^[A-Z]{3}$"),
                                   name="payout_hold_currency_code"),
        ]
        indexes = [models.Index(fields=["restaurant", "currency"], name="payout_hold_restaurant_idx")]

    def __str__(self) -> str:
        return f"Hold {self.pk} on {self.restaurant_id} {self.currency or 'all currencies'}"


class PayoutHoldRelease(models.Model):
    """The end of a hold, by a second finance manager: never its placer, and once (its primary key is the hold)."""

    hold = models.OneToOneField(PayoutHold, primary_key=True, on_delete=models.PROTECT, related_name="release")
    released_by = models.ForeignKey("auth.User", on_delete=models.PROTECT, related_name="payout_holds_released")
    released_at = models.DateTimeField(default=timezone.now)
    note = models.TextField(blank=True)

    def __str__(self) -> str:
        return f"Release of hold {self.hold_id}"


class PayoutFrequency(models.TextChoices):
    DAILY = "daily", "Daily"
    WEEKLY = "weekly", "Weekly"
    MONTHLY = "monthly", "Monthly"


class PayoutSchedule(models.Model):
    """One version of a restaurant's payout schedule; the newest is in force, the rest are its history.

    Append-only: a change is a new row with who and when. A restaurant without one is paid daily.
    """

    restaurant = models.ForeignKey("ledger.Restaurant", on_delete=models.PROTECT, related_name="payout_schedules")
    frequency = models.CharField(max_length=16, choices=PayoutFrequency.choices, default=PayoutFrequency.DAILY)
    weekday = models.SmallIntegerField(null=True, blank=True, help_text="Weekly: 0 Monday … 6 Sunday.")
    day_of_month = models.SmallIntegerField(null=True, blank=True, help_text="Monthly: a day from 1 to 28.")
    last_day_of_month = models.BooleanField(default=False, help_text="Monthly: on the month's last day instead.")
    min_amount = models.BigIntegerField(default=1, help_text="Smallest payout, in minor units of the run's currency.")
    changed_by = models.ForeignKey("auth.User", on_delete=models.PROTECT, related_name="payout_schedule_changes")
    changed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["restaurant_id", "-changed_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(min_amount__gte=1), name="payout_schedule_min_amount_positive"),
            models.CheckConstraint(
                name="payout_schedule_day_matches_frequency",
                condition=(
                    Q(frequency="daily", weekday__isnull=True, day_of_month__isnull=True, last_day_of_month=False)
                    | Q(frequency="weekly", weekday__gte=0, weekday__lte=6, day_of_month__isnull=True,
                        last_day_of_month=False)
                    | Q(frequency="monthly", weekday__isnull=True, day_of_month__gte=1, day_of_month__lte=28,
                        last_day_of_month=False)
                    | Q(frequency="monthly", weekday__isnull=True, day_of_month__isnull=True, last_day_of_month=True)
                ),
            ),
        ]
        indexes = [models.Index(fields=["restaurant", "-changed_at", "-id"], name="payout_schedule_current_idx")]

    def __str__(self) -> str:
        return f"{self.restaurant_id}: {self.frequency}"
