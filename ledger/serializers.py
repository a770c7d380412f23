from datetime import UTC

from rest_framework import serializers

from mesa247.fields import CurrencyField, LocalDateField

from .models import AdjustmentReason, AdjustmentStatus


class CurrencyQuerySerializer(serializers.Serializer):
    currency = CurrencyField(required=False, help_text="ISO 4217 code; defaults to DEFAULT_CURRENCY.")


class RestaurantBalanceOutputSerializer(serializers.Serializer):
    restaurant_id = serializers.CharField()
    currency = serializers.CharField()
    available = serializers.IntegerField(help_text="Matured and owed to the restaurant; negative when it owes us.")
    pending = serializers.IntegerField(help_text="Charges not yet matured.")
    reserved = serializers.IntegerField(help_text="In payouts created but not yet settled.")
    last_event_at = serializers.DateTimeField(allow_null=True, default_timezone=UTC)
    payouts_held = serializers.BooleanField(
        help_text="A finance manager holds this balance's payouts: runs skip it while funds keep accruing.")


class RestaurantBalanceListOutputSerializer(serializers.Serializer):
    restaurant_id = serializers.CharField()
    balances = RestaurantBalanceOutputSerializer(many=True)


class LedgerEntryOutputSerializer(serializers.Serializer):
    entry_id = serializers.IntegerField(source="id")
    account = serializers.SerializerMethodField(help_text="payable or reserved")
    entry_type = serializers.CharField()
    amount = serializers.SerializerMethodField(help_text="Restaurant-facing: positive raises what we owe it.")
    currency = serializers.CharField()
    effective_at = serializers.DateTimeField(default_timezone=UTC)
    posted_at = serializers.DateTimeField(source="transaction.posted_at", default_timezone=UTC)
    transaction_id = serializers.IntegerField()
    transaction_kind = serializers.CharField(source="transaction.kind")
    event_id = serializers.SerializerMethodField()
    payout_id = serializers.CharField(source="transaction.payout_id", allow_null=True)
    adjustment_id = serializers.IntegerField(source="transaction.adjustment_id", allow_null=True)

    def get_account(self, entry) -> str:
        return entry.account.kind.removeprefix("restaurant_")

    def get_amount(self, entry) -> int:
        return -entry.amount

    def get_event_id(self, entry) -> str | None:
        event = entry.transaction.event
        return event.event_id if event else None


class LedgerPageOutputSerializer(serializers.Serializer):
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = LedgerEntryOutputSerializer(many=True)


class StatementQuerySerializer(CurrencyQuerySerializer):
    """`currency`, `from` and `to` (local dates in TIME_ZONE, both inclusive, from ≤ to)."""

    to = LocalDateField(help_text="Last local day of the period, inclusive.")

    def get_fields(self):
        fields = super().get_fields()
        fields["from"] = LocalDateField(help_text="First local day of the period, inclusive.")
        return fields

    def validate(self, attrs):
        if attrs["from"] > attrs["to"]:
            raise serializers.ValidationError({"to": ["Must be on or after `from`."]})
        return attrs


class StatementLineOutputSerializer(serializers.Serializer):
    """One payable entry, as the statement writes it (documentation of the streamed body)."""

    entry_id = serializers.IntegerField()
    posted_at = serializers.DateTimeField(help_text="When the ledger recorded it: the line's date.")
    effective_at = serializers.DateTimeField(help_text="When it counts towards the available balance.")
    kind = serializers.CharField(help_text="The transaction kind: charge, refund, payout_reserve, …")
    entry_type = serializers.CharField(help_text="gross, fee, refund, fee_refund, adjustment or payout")
    amount = serializers.IntegerField(help_text="Restaurant-facing: positive raises what we owe it.")
    balance = serializers.IntegerField(help_text="The payable balance after this line.")
    transaction_id = serializers.IntegerField()
    event_id = serializers.CharField(allow_null=True)
    payout_id = serializers.CharField(allow_null=True)
    adjustment_id = serializers.IntegerField(allow_null=True, help_text="The approved adjustment it posts, if any.")


class StatementOutputSerializer(serializers.Serializer):
    restaurant_id = serializers.CharField()
    currency = serializers.CharField()
    to = serializers.DateField()
    balance = serializers.CharField(help_text="Which balance: payable (available + pending).")
    opening_balance = serializers.IntegerField(help_text="Payable balance at the start of `from`.")
    lines = StatementLineOutputSerializer(many=True)
    closing_balance = serializers.IntegerField(help_text="opening_balance + the sum of the lines' amounts.")

    def get_fields(self):
        fields = super().get_fields()
        fields["from"] = serializers.DateField()
        return fields
class AdjustmentOutputSerializer(serializers.Serializer):
    adjustment_id = serializers.IntegerField(source="id")
    restaurant_id = serializers.CharField()
    currency = serializers.CharField()
    amount = serializers.IntegerField(help_text="Minor units, restaurant-facing: positive credits the restaurant.")
    reason = serializers.ChoiceField(choices=AdjustmentReason.choices)
    note = serializers.CharField()
    reference = serializers.CharField(allow_blank=True)
    status = serializers.ChoiceField(choices=AdjustmentStatus.choices)
    proposed_by = serializers.CharField(source="proposed_by.username")
    proposed_at = serializers.DateTimeField(default_timezone=UTC)
    # Null while pending (an undecided adjustment has no decision row).
    decided_by = serializers.CharField(source="decision.decided_by.username", allow_null=True)
    decided_at = serializers.DateTimeField(source="decision.decided_at", allow_null=True, default_timezone=UTC)
    ledger_transaction_id = serializers.IntegerField(source="ledger_transaction.pk", allow_null=True,
                                                     help_text="Set once approved: the posting.")


class AdjustmentPageOutputSerializer(serializers.Serializer):
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = AdjustmentOutputSerializer(many=True)
