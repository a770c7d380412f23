"""Ledger transactions, their entries and the stored ledger checks, read-only."""

from django.contrib import admin
from django.utils.html import format_html_join

from mesa247.admin_display import ReadOnlyModelAdmin, ReadOnlyTabularInline, change_link, money_display

from ..admin_selectors import transactions_with_totals
from ..models import Entry, LedgerCheckResult, Transaction
from .common import ENTRY_LIST_LOOKUPS, SHORT_ACCOUNT_KIND, CurrencyFilter, cause_link, settled_by_link, signed


class EntryInline(ReadOnlyTabularInline):
    model = Entry
    fields = ("account", "entry_type", "amount_display", "effective_at", "settled_by")
    readonly_fields = fields
    ordering = ["id"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("account", "settlement")

    @admin.display(description="Amount")
    def amount_display(self, obj):
        return signed(obj.amount, obj.currency)

    @admin.display(description="Settled by payout")
    def settled_by(self, obj):
        return settled_by_link(obj)



@admin.register(Transaction)
class TransactionAdmin(ReadOnlyModelAdmin):
    list_display = ["id", "posted_at", "kind", "restaurant_id", "currency", "total_display", "cause"]
    list_filter = ["kind", CurrencyFilter, "posted_at"]
    list_select_related = ["event"]
    # (A transaction's memo is its event id or payout id: searching those covers it.)
    exact_search_fields = ("restaurant_id", "event__event_id", "payout_id")
    search_help_text = "Exact restaurant id, event id or payout id."
    show_full_result_count = False
    readonly_fields = ("kind", "restaurant_id", "currency", "total_display", "cause", "posted_at", "memo")
    fields = readonly_fields
    inlines = [EntryInline]

    def get_queryset(self, request):
        return transactions_with_totals()

    total_display = money_display("total", "Debits (= credits)")

    @admin.display(description="Caused by")
    def cause(self, obj):
        return cause_link(obj)


@admin.register(Entry)
class EntryAdmin(ReadOnlyModelAdmin):
    """Entries, newest first; filtered by restaurant and currency this is the restaurant's statement."""

    list_display = [
        "id",
        "effective_at",
        "restaurant",
        "account_kind",
        "entry_type",
        "amount_display",
        "transaction_link",
        "cause",
        "settled_by",
    ]
    list_filter = ["entry_type", CurrencyFilter, "account__kind", "effective_at"]
    list_select_related = ["account", "transaction", "transaction__event", "settlement"]
    extra_lookups = ENTRY_LIST_LOOKUPS + ("account__id__exact", "settlement__payout__id__exact")
    exact_search_fields = ("account__restaurant_id", "transaction__event__event_id", "settlement__payout_id")
    search_help_text = "Exact restaurant id, event id, or the id of the payout that settled the entry."
    show_full_result_count = False
    readonly_fields = (
        "transaction_link",
        "account",
        "entry_type",
        "amount_display",
        "effective_at",
        "cause",
        "settled_by",
    )
    fields = readonly_fields

    @admin.display(description="Restaurant", ordering="account__restaurant_id")
    def restaurant(self, obj):
        return obj.account.restaurant_id or "house"

    @admin.display(description="Account", ordering="account__kind")
    def account_kind(self, obj):
        return SHORT_ACCOUNT_KIND.get(obj.account.kind, obj.account.kind)

    @admin.display(description="Amount", ordering="amount")
    def amount_display(self, obj):
        return signed(obj.amount, obj.currency)

    @admin.display(description="Transaction")
    def transaction_link(self, obj):
        text = f"#{obj.transaction_id} {obj.transaction.get_kind_display()}"
        return change_link(Transaction, obj.transaction_id, text)

    @admin.display(description="Caused by")
    def cause(self, obj):
        return cause_link(obj.transaction)

    @admin.display(description="Settled by payout")
    def settled_by(self, obj):
        return settled_by_link(obj)


@admin.register(LedgerCheckResult)
class LedgerCheckResultAdmin(ReadOnlyModelAdmin):
    """The stored outcomes of `manage.py ledger_check`, newest first."""

    list_display = ["checked_at", "ok", "summary", "duration_ms"]
    list_filter = ["ok"]
    readonly_fields = ("checked_at", "ok", "summary", "problem_list", "counts_display", "duration_ms")
    fields = readonly_fields

    @admin.display(description="Problems")
    def problem_list(self, obj):
        problems = obj.problems or []
        return format_html_join(
            "",
            "<div><strong>{}</strong> · {} · {}</div>",
            ((p.get("check", ""), p.get("subject", ""), p.get("detail", "")) for p in problems),
        ) or "None."

    @admin.display(description="Rows examined")
    def counts_display(self, obj):
        return format_html_join(", ", "{}: {}", sorted((obj.counts or {}).items())) or "—"
