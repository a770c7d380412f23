"""What the ledger's admin pages share: links between them, amounts in accounting terms, the currency filter."""

from django.contrib import admin
from django.utils.html import format_html, format_html_join

from mesa247.admin_display import admin_changelist_url, change_link, changelist_link
from mesa247.money import money

from ..admin_selectors import currencies_in_use
from ..models import AccountKind, Adjustment, Entry, Transaction

BALANCE_CHART_DAYS = 90
LATEST_LINES = 10
STATEMENT_PERMISSION = "ledger.view_entry"
SHORT_ACCOUNT_KIND = {
    AccountKind.PROCESSOR_CLEARING: "Processor clearing",
    AccountKind.RESTAURANT_PAYABLE: "Payable",
    AccountKind.RESTAURANT_RESERVED: "Reserved",
    AccountKind.HOUSE_ADJUSTMENTS: "House adjustments",
}
ENTRY_LIST_LOOKUPS = ("account__restaurant__id__exact", "account__currency__exact", "account__kind__exact")
# Pages of the apps above the ledger, linked by label (the ledger imports neither).
PAYOUT = "payouts.payout"
EVENT = "processor.event"


def signed(amount: int, currency: str) -> str:
    """An entry or account amount in accounting terms: debit (Dr) or credit (Cr)."""
    if amount == 0:
        return money(0, currency)
    return f"{money(abs(amount), currency)} {'Dr' if amount > 0 else 'Cr'}"


def entry_list_url(restaurant_id: str, currency: str | None = None) -> str:
    filters = {"account__restaurant__id__exact": restaurant_id}
    if currency:
        filters["account__currency__exact"] = currency
    return admin_changelist_url(Entry, **filters)


def restaurant_links(restaurant_id: str, currency: str | None = None):
    """Where a restaurant's figures come from: its entries, payouts and processor events."""
    currency_filter = {"currency": currency} if currency else {}
    return format_html(
        '<a href="{}">entries</a> · {} · {}',
        entry_list_url(restaurant_id, currency),
        changelist_link(PAYOUT, "payouts", restaurant__id__exact=restaurant_id, **currency_filter),
        changelist_link(EVENT, "events", restaurant_id=restaurant_id, **currency_filter),
    )


class CurrencyFilter(admin.SimpleListFilter):
    """Filter by currency, offering the currencies of the ledger's accounts: Django's default for a plain
    column would read its distinct values from the whole table (millions of entries or events)."""

    title = "currency"
    parameter_name = "currency"

    def lookups(self, request, model_admin):
        return [(code, code) for code in currencies_in_use()]

    def queryset(self, request, queryset):
        value = self.value()
        return queryset.filter(currency=value) if value else queryset


def settled_by_link(entry: Entry):
    settlement = getattr(entry, "settlement", None)
    if settlement is None:
        return "—" if entry.account.kind == AccountKind.RESTAURANT_PAYABLE else ""
    return change_link(PAYOUT, settlement.payout_id)


def cause_link(transaction: Transaction):
    parts = []
    if transaction.event_id:
        # processor's one-to-one (LedgerTransactionOfEvent) gives the event; the plugin types it a many-to-one manager.
        event_id = transaction.event.event_id  # type: ignore[attr-defined]
        parts.append(change_link(EVENT, transaction.event_id, f"event {event_id}"))
    if transaction.payout_id:
        parts.append(change_link(PAYOUT, transaction.payout_id, f"payout {transaction.payout_id}"))
    if transaction.adjustment_id:
        parts.append(change_link(Adjustment, transaction.adjustment_id, f"adjustment #{transaction.adjustment_id}"))
    return format_html_join(" · ", "{}", ((part,) for part in parts)) or "—"
