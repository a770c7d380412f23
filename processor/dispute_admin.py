"""Disputes in the finance back office: open ones first, each with its events and their postings."""

from django.contrib import admin
from django.db.models import Case, IntegerField, Value, When
from django.db.models.expressions import Combinable
from django.utils.html import format_html, format_html_join

from ledger.admin import CurrencyFilter, balance_page_row_add
from ledger.models import Entry, Transaction
from mesa247.admin_display import ReadOnlyModelAdmin, change_link, changelist_link, money_display
from mesa247.money import money

from .models import Dispute, DisputeStatus, Event

# Open disputes first (they await the processor's word), then newest first.
OPEN_FIRST: list[str | Combinable] = [
    Case(When(status=DisputeStatus.OPEN, then=Value(0)), default=Value(1), output_field=IntegerField()).asc(),
    "-id",
]


def _open_first(disputes):
    return disputes.order_by(*OPEN_FIRST)


@admin.register(Dispute)
class DisputeAdmin(ReadOnlyModelAdmin):
    list_display = ["dispute_id", "status", "restaurant_id", "currency", "amount_display", "fee_display",
                    "reinstated_display", "opened_at", "closed_at"]
    list_filter = ["status", CurrencyFilter, "opened_at"]
    exact_search_fields = ("dispute_id", "restaurant_id", "payment_id")
    search_help_text = "Exact dispute id, restaurant id or payment id."
    fields = ("dispute_id", "status", "payment_id", "restaurant_id", "currency", "amount_display", "fee_display",
              "reinstated_display", "fee_returned_display", "opened_at", "closed_at", "events", "postings")
    readonly_fields = fields

    ordering = OPEN_FIRST

    amount_display = money_display("amount", "Amount withdrawn")
    fee_display = money_display("fee", "Dispute fee")
    reinstated_display = money_display("reinstated", "Reinstated")
    fee_returned_display = money_display("fee_returned", "Fee returned")

    def _event_ids(self, obj) -> list[int]:
        return [pk for pk in (obj.opened_event_id, obj.decision_event_id) if pk is not None]

    @admin.display(description="Events")
    def events(self, obj):
        return format_html_join(
            "", "<div>{} · {} · {}</div>",
            ((change_link(Event, event.pk, event.event_id), event.event_type, event.occurred_at)
             for event in Event.objects.filter(pk__in=self._event_ids(obj)).order_by("id")),
        )

    @admin.display(description="Postings")
    def postings(self, obj):
        entries = (Entry.objects.filter(transaction__event_id__in=self._event_ids(obj))
                   .select_related("account").order_by("id"))
        rows = format_html_join(
            "", "<div>{} · {} · {} · {}</div>",
            ((change_link(Transaction, entry.transaction_id, f"#{entry.transaction_id}"), entry.account,
              entry.entry_type, money(entry.amount, entry.currency)) for entry in entries),
        )
        return rows or "None (a lost dispute moves no money)."


@balance_page_row_add
@admin.display(description="Disputes")
def restaurant_disputes(balance):
    """On the ledger's balance page: the restaurant's disputes in that currency, open ones first."""
    disputes = _open_first(Dispute.objects.filter(restaurant_id=balance.restaurant_id, currency=balance.currency))
    shown = format_html_join(
        "", "<div>{} {}: {} + fee {}</div>",
        ((change_link(Dispute, dispute.pk, dispute.dispute_id), dispute.status,
          money(dispute.amount, dispute.currency), money(dispute.fee, dispute.currency)) for dispute in disputes[:20]),
    )
    if not shown:
        return "None."
    return format_html("{}{}", shown, changelist_link(
        Dispute, "all of them", restaurant_id=balance.restaurant_id, currency=balance.currency))
