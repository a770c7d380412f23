"""The processor's settlement reports, their lines, the exceptions they raise and each event's state.

A report's lines are loaded with COPY (`reconciliation/services/imports.py`) and matched by a few
set-based statements (`reconciliation/services/matching.py`); see docs/reconciliation.md.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


class ReportStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    RECONCILED = "reconciled", "Reconciled"
    FAILED = "failed", "Failed"


class Category(models.TextChoices):
    CHARGE = "charge", "Charge"
    REFUND = "refund", "Refund"
    DISPUTE = "dispute", "Dispute"
    DISPUTE_REVERSAL = "dispute_reversal", "Dispute reversal"
    PAYOUT = "payout", "Payout"
    PAYOUT_RETURN = "payout_return", "Payout return"


# A line's category names an event type (its source_id is an event_id) or a payout (its source_id is our payout_id).
EVENT_TYPE_OF_CATEGORY = {
    Category.CHARGE.value: "charge_succeeded",
    Category.REFUND.value: "refund_succeeded",
    Category.DISPUTE.value: "dispute_opened",
    Category.DISPUTE_REVERSAL.value: "dispute_won",
}
PAYOUT_CATEGORIES = (Category.PAYOUT.value, Category.PAYOUT_RETURN.value)


class Outcome(models.TextChoices):
    MATCHED = "matched", "Matched"
    MISMATCHED = "mismatched", "Mismatched"
    MISSING_FROM_LEDGER = "missing_from_ledger", "Missing from ledger"
    DUPLICATE = "duplicate", "Duplicate"
    MISSING_FROM_REPORT = "missing_from_report", "Missing from report"


LINE_OUTCOMES = (Outcome.MATCHED, Outcome.MISMATCHED, Outcome.MISSING_FROM_LEDGER, Outcome.DUPLICATE)
EXCEPTION_OUTCOMES = (Outcome.MISMATCHED, Outcome.MISSING_FROM_LEDGER, Outcome.MISSING_FROM_REPORT)


class ResolutionAction(models.TextChoices):
    RECORD_FROM_REPORT = "record_from_report", "Record the event from the report"
    APPLY_PAYOUT_STATUS = "apply_payout_status", "Apply the report's payout status"
    EXPLAIN = "explain", "Explain (moves no money)"
    # Not a person's action: a later report listed an event that was missing from the reports.
    REPORTED = "reported", "Listed by a later report"


class SettlementReport(models.Model):
    """One processor settlement report, received once: its id and a digest of its content."""

    report_id = models.CharField(primary_key=True, max_length=128)
    digest = models.CharField(max_length=64, help_text="SHA-256 of the report's lines, read canonically.")
    status = models.CharField(max_length=16, choices=ReportStatus.choices, default=ReportStatus.QUEUED)
    lines = models.IntegerField()
    matched = models.IntegerField(default=0)
    mismatched = models.IntegerField(default=0)
    missing_from_ledger = models.IntegerField(default=0)
    duplicate = models.IntegerField(default=0)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+")
    received_at = models.DateTimeField(default=timezone.now)
    reconciled_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-received_at", "-report_id"]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=[choice.value for choice in ReportStatus]),
                                   name="report_status_known"),
        ]

    def __str__(self) -> str:
        return self.report_id


class ReportCurrencyTotal(models.Model):
    """A report's net per currency and how much of it matched the ledger (drift = report_net − matched_net)."""

    report = models.ForeignKey(SettlementReport, on_delete=models.PROTECT, related_name="currency_totals")
    currency = models.CharField(max_length=3)
    report_net = models.BigIntegerField()
    matched_net = models.BigIntegerField()

    class Meta:
        ordering = ["report", "currency"]
        constraints = [models.UniqueConstraint(fields=["report", "currency"], name="report_currency_once")]

    def __str__(self) -> str:
        return f"{self.report_id} {self.currency}"

    @property
    def drift(self) -> int:
        return self.report_net - self.matched_net


class SettlementLine(models.Model):
    """One line of a report, as the processor wrote it, with its outcome once matched (NULL while staged).

    A report's lines are written by the million, so the table carries only the indexes its statements use,
    leaves room in each page for the matching's update of every line (reconciliation/sql/ and the 0003
    migration), and its references are checked once per statement by triggers, not per row by foreign keys.
    """

    # Its index is the unique (report, line_id) one's leading column; its existence is checked per statement.
    report = models.ForeignKey(SettlementReport, on_delete=models.PROTECT, related_name="report_lines",
                               db_constraint=False, db_index=False)
    line_number = models.IntegerField(help_text="Its line in the file (the header is line 1).")
    line_id = models.CharField(max_length=128)
    category = models.CharField(max_length=16, choices=Category.choices)
    source_id = models.CharField(max_length=128)
    restaurant_id = models.CharField(max_length=64)
    currency = models.CharField(max_length=3)
    amount = models.BigIntegerField()
    fee = models.BigIntegerField()
    net = models.BigIntegerField()
    occurred_at = models.DateTimeField()
    payment_id = models.CharField(max_length=128, null=True, blank=True)
    outcome = models.CharField(max_length=24, choices=Outcome.choices, null=True, blank=True)
    fields = models.JSONField(default=list, blank=True, help_text="The fields that differ, for a mismatched line.")
    # Set by the matching, unindexed: an update that touches no indexed column stays in its page (HOT).
    event = models.ForeignKey("processor.Event", null=True, blank=True, on_delete=models.PROTECT,
                              db_constraint=False, db_index=False, related_name="settlement_lines")
    payout = models.ForeignKey("payouts.Payout", null=True, blank=True, on_delete=models.PROTECT,
                               db_constraint=False, db_index=False, related_name="settlement_lines")

    class Meta:
        ordering = ["report", "line_number"]
        constraints = [
            models.UniqueConstraint(fields=["report", "line_id"], name="line_id_once_per_report"),
            models.CheckConstraint(condition=Q(category__in=[choice.value for choice in Category]),
                                   name="line_category_known"),
            models.CheckConstraint(condition=Q(amount__gte=0) & Q(fee__gte=0), name="line_amounts_not_negative"),
        ]
        indexes = [
            # A line_id listed by an earlier report (the matching's duplicates).
            models.Index(fields=["line_id"], name="line_line_id_idx"),
            # A payout's page finds the lines naming it. Partial: only payout lines (a handful per report)
            # are indexed, and the matching never updates source_id or category, so its updates stay HOT.
            models.Index(fields=["source_id"], condition=Q(category__in=PAYOUT_CATEGORIES),
                         name="line_payout_source_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.report_id} {self.line_id}"


class ReconciliationException(models.Model):
    """A difference between the report and the ledger, open until someone resolves it.

    A line's (mismatched, missing_from_ledger) or an event's (missing_from_report). The resolution is
    recorded on the row itself: what was done, by whom, when and why.
    """

    outcome = models.CharField(max_length=24, choices=Outcome.choices)
    fields = models.JSONField(default=list, blank=True)
    report = models.ForeignKey(SettlementReport, null=True, blank=True, on_delete=models.PROTECT,
                               related_name="exceptions")
    line = models.OneToOneField(SettlementLine, null=True, blank=True, on_delete=models.PROTECT,
                                related_name="exception")
    event = models.ForeignKey("processor.Event", null=True, blank=True, on_delete=models.PROTECT,
                              related_name="reconciliation_exceptions")
    payout = models.ForeignKey("payouts.Payout", null=True, blank=True, on_delete=models.PROTECT,
                               related_name="reconciliation_exceptions")
    # Copied from the line or the event, so the queue filters and sums without joins.
    restaurant_id = models.CharField(max_length=64)
    currency = models.CharField(max_length=3)
    amount = models.BigIntegerField()
    opened_at = models.DateTimeField(default=timezone.now)
    action = models.CharField(max_length=24, choices=ResolutionAction.choices, null=True, blank=True)
    note = models.TextField(blank=True)
    resolved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+")
    resolved_at = models.DateTimeField(null=True, blank=True)
    # apply_payout_status: the posting it made (naming the payout, no event). The processor's webhook for that
    # status, when it comes later, confirms this posting (processor.PayoutEventConfirmation) instead of posting.
    ledger_transaction = models.OneToOneField(
        "ledger.Transaction", null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        help_text="The ledger transaction the resolution posted (apply_payout_status).")

    class Meta:
        ordering = ["-opened_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(outcome__in=[outcome.value for outcome in EXCEPTION_OUTCOMES]),
                                   name="exception_outcome_known"),
            # A line's exception names its line; an event missing from the reports names its event.
            models.CheckConstraint(
                condition=(Q(outcome="missing_from_report", line__isnull=True, event__isnull=False)
                           | (~Q(outcome="missing_from_report") & Q(line__isnull=False))),
                name="exception_names_its_subject"),
            # Resolved: an action and a moment, together (and a person, but for a later report's listing).
            models.CheckConstraint(
                condition=(Q(action__isnull=True, resolved_at__isnull=True, resolved_by__isnull=True)
                           | Q(action__isnull=False, resolved_at__isnull=False)),
                name="exception_resolution_whole"),
            models.UniqueConstraint(fields=["event"], condition=Q(outcome="missing_from_report"),
                                    name="event_missing_from_report_once"),
            # Only apply_payout_status posts by itself (record_from_report posts through the event it records).
            models.CheckConstraint(condition=Q(ledger_transaction__isnull=True) | Q(action="apply_payout_status"),
                                   name="exception_posting_is_a_payout_status"),
        ]
        indexes = [
            models.Index(fields=["opened_at"], condition=Q(resolved_at__isnull=True), name="exception_open_idx"),
            models.Index(fields=["restaurant_id", "currency"], name="exception_restaurant_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.outcome} #{self.pk}"

    @property
    def is_open(self) -> bool:
        return self.resolved_at is None


class EventState(models.TextChoices):
    MATCHED = "matched", "Matched"
    MISMATCHED = "mismatched", "Mismatched"
    MISSING_FROM_REPORT = "missing_from_report", "Missing from report"


class EventReconciliation(models.Model):
    """Where an event stands against the processor's reports: one row per event a report listed or missed.

    "Which of this restaurant's money is confirmed" is one join of processor_event to this table.
    """

    # Both references are checked per statement (reconciliation/sql/references.sql): a report writes a
    # state for each of its million events.
    event = models.OneToOneField("processor.Event", primary_key=True, on_delete=models.PROTECT,
                                 db_constraint=False, related_name="reconciliation")
    state = models.CharField(max_length=24, choices=EventState.choices)
    line = models.ForeignKey(SettlementLine, null=True, blank=True, on_delete=models.PROTECT, db_constraint=False,
                             db_index=False, related_name="+")
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(state__in=[choice.value for choice in EventState]),
                                   name="event_state_known"),
        ]

    def __str__(self) -> str:
        return f"{self.event_id} {self.state}"
