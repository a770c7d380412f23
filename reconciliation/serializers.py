from datetime import UTC

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from .models import Category, Outcome, ReportStatus, ResolutionAction
from .resolutions import NOTE_MAX_CHARS, PERSON_ACTIONS
from .selectors import exception_confirming_event


class SettlementReportCreateOutputSerializer(serializers.Serializer):
    report_id = serializers.CharField(source="pk")
    status = serializers.ChoiceField(choices=ReportStatus.choices)


class ReportCurrencyOutputSerializer(serializers.Serializer):
    report_net = serializers.IntegerField()
    matched_net = serializers.IntegerField()
    drift = serializers.IntegerField(help_text="report_net − matched_net")


class ReportOutcomesOutputSerializer(serializers.Serializer):
    matched = serializers.IntegerField()
    mismatched = serializers.IntegerField()
    missing_from_ledger = serializers.IntegerField()
    duplicate = serializers.IntegerField()


class SettlementReportOutputSerializer(serializers.Serializer):
    report_id = serializers.CharField(source="pk")
    status = serializers.ChoiceField(choices=ReportStatus.choices)
    lines = serializers.IntegerField()
    outcomes = serializers.SerializerMethodField()
    currencies = serializers.SerializerMethodField()
    received_at = serializers.DateTimeField(default_timezone=UTC)
    reconciled_at = serializers.DateTimeField(default_timezone=UTC, allow_null=True)
    error = serializers.CharField(allow_blank=True, help_text="Why a failed reconciliation failed; empty otherwise.")

    @extend_schema_field(ReportOutcomesOutputSerializer)
    def get_outcomes(self, report) -> dict:
        return {"matched": report.matched, "mismatched": report.mismatched,
                "missing_from_ledger": report.missing_from_ledger, "duplicate": report.duplicate}

    @extend_schema_field(serializers.DictField(child=ReportCurrencyOutputSerializer(),
                                               help_text="Per currency of the report's lines."))
    def get_currencies(self, report) -> dict:
        return {total.currency: {"report_net": total.report_net, "matched_net": total.matched_net,
                                 "drift": total.drift}
                for total in report.currency_totals.all()}


class SettlementLineOutputSerializer(serializers.Serializer):
    report_id = serializers.CharField()
    line_number = serializers.IntegerField()
    line_id = serializers.CharField()
    category = serializers.ChoiceField(choices=Category.choices)
    source_id = serializers.CharField()
    restaurant_id = serializers.CharField()
    currency = serializers.CharField()
    amount = serializers.IntegerField()
    fee = serializers.IntegerField()
    net = serializers.IntegerField()
    occurred_at = serializers.DateTimeField(default_timezone=UTC)
    payment_id = serializers.CharField(allow_null=True)
    outcome = serializers.ChoiceField(choices=Outcome.choices, allow_null=True)


class ReconciliationEventOutputSerializer(serializers.Serializer):
    event_id = serializers.CharField()
    event_type = serializers.CharField()
    occurred_at = serializers.DateTimeField(default_timezone=UTC)
    restaurant_id = serializers.CharField()
    currency = serializers.CharField()
    amount = serializers.IntegerField()
    fee = serializers.IntegerField()


class ReconciliationPayoutOutputSerializer(serializers.Serializer):
    payout_id = serializers.CharField(source="pk")
    restaurant_id = serializers.CharField()
    currency = serializers.CharField()
    amount = serializers.IntegerField()
    status = serializers.CharField()


class ResolutionConfirmationOutputSerializer(serializers.Serializer):
    event_id = serializers.CharField(help_text="The processor's payout_paid / payout_failed webhook.")
    received_at = serializers.DateTimeField(default_timezone=UTC)


class ResolutionOutputSerializer(serializers.Serializer):
    action = serializers.ChoiceField(choices=ResolutionAction.choices)
    note = serializers.CharField()
    resolved_by = serializers.CharField(allow_null=True, help_text="null: a later report listed the event.")
    resolved_at = serializers.DateTimeField(default_timezone=UTC)
    ledger_transaction_id = serializers.IntegerField(
        allow_null=True, help_text="apply_payout_status: the ledger transaction it posted; null otherwise.")
    confirmed_by = ResolutionConfirmationOutputSerializer(
        allow_null=True, help_text="apply_payout_status: the processor's webhook for the same status that came "
                                   "later and confirmed the posting (it moved no money); null until it comes.")


class ReconciliationExceptionOutputSerializer(serializers.Serializer):
    exception_id = serializers.IntegerField(source="pk")
    outcome = serializers.ChoiceField(choices=Outcome.choices)
    fields = serializers.ListField(  # type: ignore[assignment]  # a field named like Serializer.fields
        child=serializers.CharField(), help_text="The fields that differ (mismatched).")
    report_id = serializers.CharField(allow_null=True)
    restaurant_id = serializers.CharField()
    currency = serializers.CharField()
    amount = serializers.IntegerField()
    opened_at = serializers.DateTimeField(default_timezone=UTC)
    line = SettlementLineOutputSerializer(allow_null=True)
    event = ReconciliationEventOutputSerializer(allow_null=True)
    payout = ReconciliationPayoutOutputSerializer(allow_null=True)
    resolution = serializers.SerializerMethodField()

    @extend_schema_field(ResolutionOutputSerializer(allow_null=True))
    def get_resolution(self, exception) -> dict | None:
        if exception.resolved_at is None:
            return None
        confirming = exception_confirming_event(exception=exception)
        return {"action": exception.action, "note": exception.note,
                "resolved_by": exception.resolved_by.get_username() if exception.resolved_by else None,
                "resolved_at": _instant(exception.resolved_at),
                "ledger_transaction_id": exception.ledger_transaction_id,
                "confirmed_by": None if confirming is None else {"event_id": confirming.event_id,
                                                                 "received_at": _instant(confirming.received_at)}}


def _instant(moment) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


class ReconciliationExceptionPageOutputSerializer(serializers.Serializer):
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = ReconciliationExceptionOutputSerializer(many=True)


class ExceptionResolveInputSerializer(serializers.Serializer):
    action = serializers.ChoiceField(choices=[(action.value, action.label) for action in PERSON_ACTIONS])
    note = serializers.CharField(max_length=NOTE_MAX_CHARS, help_text="Why; required.")
