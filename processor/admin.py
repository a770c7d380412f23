"""Processor events in the finance back office: the facts as received, read-only.

An event's page shows what apps above the processor know about it through `event_page_rows`
(reconciliation: where the processor's settlement reports stand on it).
"""

import json

from django.contrib import admin
from django.core.serializers.json import DjangoJSONEncoder
from django.utils.html import format_html

from ledger.admin import CurrencyFilter
from ledger.models import Transaction
from mesa247.admin_display import PageRows, ReadOnlyModelAdmin, change_link, money_display
from payouts.models import Payout

from . import dispute_admin  # noqa: F401 - registers the dispute admin
from .models import PAYOUT_EVENT_TYPES, Event

# Rows that apps above the processor add to an event's page: callables taking the Event.
event_page_rows = PageRows()


@admin.register(Event)
class EventAdmin(ReadOnlyModelAdmin):
    list_display = [
        "event_id",
        "event_type",
        "restaurant_id",
        "currency",
        "amount_display",
        "fee_display",
        "occurred_at",
        "received_at",
        "ledger_link",
    ]
    list_filter = ["event_type", CurrencyFilter, "occurred_at"]
    # The payout page links to "the events this payout settled".
    extra_lookups = ("ledger_transaction__entries__settlement__payout__id__exact",)
    exact_search_fields = ("event_id", "restaurant_id", "payment_id", "payout_ref")
    search_help_text = "Exact event id, restaurant id, payment id or payout id."
    # Counting millions of events on every page is the slow part of a changelist.
    show_full_result_count = False
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "event_id",
                    "event_type",
                    "restaurant_id",
                    "currency",
                    "amount_display",
                    "fee_display",
                    "occurred_at",
                    "received_at",
                    "payment_id",
                ]
            },
        ),
        ("Effect", {"fields": ["ledger_link", "payout_link"]}),
        ("Payload", {"fields": ["payload"]}),
    ]

    def get_fieldsets(self, request, obj=None):
        return event_page_rows.fieldsets(self.fieldsets)

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("ledger_transaction", "confirmation")

    amount_display = money_display("amount", "Amount")
    fee_display = money_display("fee", "Fee")

    @admin.display(description="Ledger transaction")
    def ledger_link(self, obj):
        ledger_transaction = getattr(obj, "ledger_transaction", None)
        if ledger_transaction is not None:
            return change_link(Transaction, ledger_transaction.pk, f"#{ledger_transaction.pk}")
        confirmation = getattr(obj, "confirmation", None)
        if confirmation is not None:  # a payout event that came after a settlement report applied its status
            posted = confirmation.ledger_transaction_id
            return format_html("{} (posted from the settlement report; this event confirmed it)",
                               change_link(Transaction, posted, f"#{posted}"))
        return "—"

    @admin.display(description="Payout")
    def payout_link(self, obj):
        if obj.event_type not in PAYOUT_EVENT_TYPES or not obj.payout_ref:
            return "—"
        return change_link(Payout, obj.payout_ref)

    @admin.display(description="Payload")
    def payload(self, obj):
        body = {
            "event_id": obj.event_id,
            "event_type": obj.event_type,
            "occurred_at": obj.occurred_at,
            "restaurant_id": obj.restaurant_id,
            "currency": obj.currency,
            "amount": obj.amount,
            "fee": obj.fee,
            "metadata": obj.metadata,
        }
        text = json.dumps(body, cls=DjangoJSONEncoder, indent=2, ensure_ascii=False)
        return format_html('<pre class="event-payload">{}</pre>', text)
