"""The double-entry ledger.

Sign convention: an entry's `amount` is signed, debit positive and credit
negative, so every transaction's entries sum to zero. The processor clearing
account is an asset (debit-normal); a restaurant's payable and reserved
accounts are liabilities (credit-normal): what we owe a restaurant is minus
the sum of its payable entries. APIs and the admin show restaurant-facing
numbers (positive = we owe the restaurant).
"""

from django.db import models
from django.db.models import Q
from django.utils import timezone

from mesa247.money import money


class Restaurant(models.Model):
    """A restaurant comes into existence with its first processor event."""

    id = models.CharField(primary_key=True, max_length=64)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.id


class AccountKind(models.TextChoices):
    PROCESSOR_CLEARING = "processor_clearing", "Processor clearing (asset)"
    RESTAURANT_PAYABLE = "restaurant_payable", "Restaurant payable (liability)"
    RESTAURANT_RESERVED = "restaurant_reserved", "Restaurant reserved for payouts (liability)"
    HOUSE_ADJUSTMENTS = "house_adjustments", "House adjustments (expense)"


# Accounts of the house, one per currency, owned by no restaurant.
HOUSE_ACCOUNT_KINDS = [AccountKind.PROCESSOR_CLEARING, AccountKind.HOUSE_ADJUSTMENTS]


class Account(models.Model):
    kind = models.CharField(max_length=32, choices=AccountKind.choices)
    currency = models.CharField(max_length=3)
    restaurant = models.ForeignKey(
        Restaurant, null=True, blank=True, on_delete=models.PROTECT, related_name="accounts"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["currency", "kind", "restaurant_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "currency", "restaurant"],
                condition=Q(restaurant__isnull=False),
                name="account_unique_per_restaurant",
            ),
            models.UniqueConstraint(
                fields=["kind", "currency"], condition=Q(restaurant__isnull=True), name="account_unique_house"
            ),
            # Lets entries reference (account, currency) so the database itself
            # refuses an entry in another currency than its account.
            models.UniqueConstraint(fields=["id", "currency"], name="account_id_currency"),
            models.CheckConstraint(
                condition=(Q(kind__in=HOUSE_ACCOUNT_KINDS) & Q(restaurant__isnull=True))
                | (~Q(kind__in=HOUSE_ACCOUNT_KINDS) & Q(restaurant__isnull=False)),
                name="account_owner_matches_kind",
            ),
            models.CheckConstraint(
                condition=Q(kind__in=[choice.value for choice in AccountKind]), name="account_kind_known"
            ),
        ]

    def __str__(self) -> str:
        owner = self.restaurant_id or "house"
        return f"{owner} · {self.get_kind_display()} · {self.currency}"


class TransactionKind(models.TextChoices):
    CHARGE = "charge", "Charge"
    REFUND = "refund", "Refund"
    PAYOUT_RESERVE = "payout_reserve", "Payout created (reserve)"
    PAYOUT_PAID = "payout_paid", "Payout paid"
    PAYOUT_FAILED = "payout_failed", "Payout failed (release)"
    PAYOUT_RETURNED = "payout_returned", "Paid payout returned"
    ADJUSTMENT = "adjustment", "Manual adjustment"
    DISPUTE = "dispute", "Dispute opened"
    DISPUTE_WON = "dispute_won", "Dispute won"


class Transaction(models.Model):
    """One balanced set of entries, caused by one event or one payout state change."""

    kind = models.CharField(max_length=32, choices=TransactionKind.choices)
    restaurant = models.ForeignKey(Restaurant, on_delete=models.PROTECT, related_name="transactions")
    currency = models.CharField(max_length=3)
    # Its cause, by id. The ledger knows no other app's table: `event_id` is a processor event's id (one
    # transaction per event) and `payout_id` a payout's (one per payout state change); the processor and
    # payouts apps hold these references to their rows, with their own triggers (processor/sql/,
    # payouts/sql/), and processor.Event.ledger_transaction makes `transaction.event` readable.
    event_id = models.BigIntegerField(null=True, blank=True, unique=True)
    payout_id = models.CharField(max_length=64, null=True, blank=True, db_index=True)
    # The approved adjustment this transaction posts; one transaction per adjustment at most.
    adjustment = models.OneToOneField(
        "Adjustment",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="ledger_transaction",
    )
    posted_at = models.DateTimeField(default=timezone.now)
    memo = models.CharField(max_length=255, blank=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            # One ledger transaction per payout state change.
            models.UniqueConstraint(
                fields=["payout_id", "kind"], condition=Q(payout_id__isnull=False),
                name="transaction_one_per_payout_change",
            ),
            models.CheckConstraint(
                condition=Q(event_id__isnull=False) | Q(payout_id__isnull=False) | Q(adjustment__isnull=False),
                name="transaction_has_cause",
            ),
            # An adjustment is posted by a transaction of its own kind, and only that kind names one.
            models.CheckConstraint(
                condition=(Q(kind=TransactionKind.ADJUSTMENT) & Q(adjustment__isnull=False)
                           & Q(event_id__isnull=True) & Q(payout_id__isnull=True))
                | (~Q(kind=TransactionKind.ADJUSTMENT) & Q(adjustment__isnull=True)),
                name="transaction_adjustment_matches_kind",
            ),
            # Lets entries reference (transaction, currency): one currency per transaction.
            models.UniqueConstraint(fields=["id", "currency"], name="transaction_id_currency"),
            models.CheckConstraint(
                condition=Q(kind__in=[choice.value for choice in TransactionKind]), name="transaction_kind_known"
            ),
        ]
        indexes = [models.Index(fields=["restaurant", "currency", "-id"], name="txn_restaurant_idx")]

    def __str__(self) -> str:
        return f"#{self.pk} {self.get_kind_display()} {self.restaurant_id} {self.currency}"


class EntryType(models.TextChoices):
    GROSS = "gross", "Gross sale"
    FEE = "fee", "Processor fee"
    REFUND = "refund", "Refund"
    FEE_REFUND = "fee_refund", "Fee returned"
    PAYOUT = "payout", "Payout"
    ADJUSTMENT = "adjustment", "Manual adjustment"
    # Both lines of a dispute's postings: the disputed amount and the dispute fee (each payout item has one type).
    DISPUTE = "dispute", "Dispute (amount or fee withdrawn)"
    DISPUTE_REVERSAL = "dispute_reversal", "Dispute won (amount or fee reinstated)"


class Entry(models.Model):
    """One line of a transaction. Append-only: the database refuses UPDATE and DELETE."""

    # Both references, and that they are in the entry's currency, are checked once per INSERT
    # statement by the ledger_entry_account_and_transaction trigger (ledger/sql/entry_references.sql).
    transaction = models.ForeignKey(Transaction, on_delete=models.PROTECT, related_name="entries",
                                    db_constraint=False)
    # Indexed by the (account, …) indexes below, which lead with it.
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="entries", db_index=False,
                                db_constraint=False)
    currency = models.CharField(max_length=3)
    amount = models.BigIntegerField(help_text="Minor units; debit positive, credit negative.")
    entry_type = models.CharField(max_length=16, choices=EntryType.choices)
    # When the entry counts towards the available balance: a charge's gross
    # and fee when they mature, everything else when it happens.
    effective_at = models.DateTimeField()

    class Meta:
        ordering = ["-id"]
        verbose_name_plural = "entries"
        constraints = [
            models.CheckConstraint(condition=~Q(amount=0), name="entry_amount_nonzero"),
            models.CheckConstraint(
                condition=Q(entry_type__in=[choice.value for choice in EntryType]), name="entry_type_known"
            ),
        ]
        indexes = [
            # With amount and type included, the pending sum of a balance read and the payout amounts
            # read the index alone (an index-only scan over the entries since a moment).
            models.Index(fields=["account", "effective_at"], include=["amount", "entry_type"],
                         name="entry_account_effective_cover"),
            models.Index(fields=["account", "-id"], name="entry_account_recent_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.amount:+d} {self.currency} → {self.account}"


class OpenEntry(models.Model):
    """A restaurant's payable entry that no payout has settled yet.

    The settled-by-payout record is `payouts.PayoutSettlement`; this is its
    complement, kept by the ledger as entries are posted and removed as a
    payout settles them, so a payout reads only what is still open, never the
    account's whole history. `ledger_check` verifies the two agree.
    """

    # Checked once per statement by ledger/sql/open_entry_references.sql, not by a foreign key per row.
    entry = models.OneToOneField(Entry, primary_key=True, on_delete=models.PROTECT, related_name="open_item",
                                 db_constraint=False)
    # A copy of the entry's account, for the index payouts read by; ledger_check verifies it matches.
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="open_entries", db_index=False,
                                db_constraint=False)
    effective_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["account", "effective_at"], name="open_entry_account_effective")]

    def __str__(self) -> str:
        return f"open entry {self.entry_id}"


class RestaurantBalance(models.Model):
    """Projection of a restaurant's accounts in one currency.

    Updated in the same database transaction as the postings, under a row
    lock, so balance reads never scan the ledger's history. Figures are
    restaurant-facing: positive means we owe the restaurant.
    """

    restaurant = models.ForeignKey(Restaurant, on_delete=models.PROTECT, related_name="balances")
    currency = models.CharField(max_length=3)
    payable = models.BigIntegerField(default=0, help_text="Owed, matured or not (available + pending).")
    reserved = models.BigIntegerField(default=0, help_text="In payouts created but not yet settled.")
    last_event_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)
    # A fact about this balance the ledger only shows: a trigger of the app that places holds keeps it
    # equal to "an unreleased hold covers this restaurant and currency", so the balance read stays one row.
    payouts_held = models.BooleanField(db_default=False, editable=False,
                                       help_text="Payouts of this balance are held (runs skip it).")

    class Meta:
        ordering = ["restaurant_id", "currency"]
        constraints = [
            models.UniqueConstraint(fields=["restaurant", "currency"], name="balance_one_per_restaurant_currency"),
            models.CheckConstraint(condition=Q(reserved__gte=0), name="balance_reserved_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.restaurant_id} {self.currency}"


class LedgerCheckResult(models.Model):
    """The outcome of one `manage.py ledger_check`, kept so the back office can show the latest."""

    checked_at = models.DateTimeField(default=timezone.now, db_index=True)
    ok = models.BooleanField()
    summary = models.CharField(max_length=255)
    problems = models.JSONField(default=list, blank=True, help_text="One object per problem: check, subject, detail.")
    counts = models.JSONField(default=dict, blank=True, help_text="Rows examined, per kind.")
    duration_ms = models.IntegerField(default=0)

    class Meta:
        ordering = ["-checked_at", "-id"]
        get_latest_by = "checked_at"

    def __str__(self) -> str:
        return f"Ledger check {self.checked_at:%Y-%m-%d %H:%M} · {'OK' if self.ok else 'problems'}"


class AdjustmentReason(models.TextChoices):
    GOODWILL_CREDIT = "goodwill_credit", "Goodwill credit"
    CORRECTION = "correction", "Correction"
    CHARGEBACK_FEE = "chargeback_fee", "Chargeback fee"


class AdjustmentStatus(models.TextChoices):
    """Not stored: an adjustment is pending until its decision row exists."""

    PENDING = "pending", "Pending approval"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"


class Adjustment(models.Model):
    """A proposed manual change to what we owe a restaurant. Append-only: the database refuses UPDATE and DELETE.

    `amount` is restaurant-facing, like the balance: positive raises what we owe the restaurant
    (a goodwill credit), negative lowers it (a chargeback fee). Nothing is posted until a
    different user approves it (`AdjustmentDecision`).
    """

    restaurant = models.ForeignKey(Restaurant, on_delete=models.PROTECT, related_name="adjustments")
    currency = models.CharField(max_length=3)
    amount = models.BigIntegerField(help_text="Minor units, restaurant-facing: positive credits the restaurant.")
    reason = models.CharField(max_length=32, choices=AdjustmentReason.choices)
    note = models.TextField(help_text="Why, for the approver and the audit trail.")
    reference = models.CharField(max_length=128, blank=True, help_text="Optional: a ticket, chargeback or case id.")
    proposed_by = models.ForeignKey(
        "auth.User", on_delete=models.PROTECT, related_name="adjustments_proposed"
    )
    proposed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-proposed_at", "-id"]
        permissions = [("approve_adjustment", "Can approve or reject adjustments")]
        constraints = [
            models.CheckConstraint(condition=~Q(amount=0), name="adjustment_amount_nonzero"),
            models.CheckConstraint(
                condition=Q(reason__in=[choice.value for choice in AdjustmentReason]), name="adjustment_reason_known"
            ),
            models.CheckConstraint(condition=~Q(note=""), name="adjustment_note_given"),
        ]
        indexes = [models.Index(fields=["restaurant", "currency", "-proposed_at"], name="adjustment_restaurant_idx")]

    def __str__(self) -> str:
        return f"Adjustment #{self.pk} {self.restaurant_id} {money(self.amount, self.currency)}"


class AdjustmentDecisionKind(models.TextChoices):
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"


class AdjustmentDecision(models.Model):
    """The one decision on an adjustment, by someone other than its proposer. Append-only.

    The database refuses a decision by the proposer (a trigger) and a second decision (the
    one-to-one key); an approval's ledger transaction is posted in the same database transaction.
    """

    adjustment = models.OneToOneField(Adjustment, primary_key=True, on_delete=models.PROTECT, related_name="decision")
    decision = models.CharField(max_length=16, choices=AdjustmentDecisionKind.choices)
    decided_by = models.ForeignKey("auth.User", on_delete=models.PROTECT, related_name="adjustment_decisions")
    decided_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-decided_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(decision__in=[choice.value for choice in AdjustmentDecisionKind]),
                name="adjustment_decision_known",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_decision_display()} adjustment #{self.adjustment_id}"
