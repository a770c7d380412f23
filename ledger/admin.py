"""The ledger in the finance back office: read-only for everyone, superusers included.

Corrections are new reversing transactions posted by the services; nothing
here can add, change or delete a ledger record.
"""

from datetime import timedelta
from urllib.parse import urlencode

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseBadRequest, HttpResponseNotAllowed, HttpResponseRedirect
from django.template.loader import render_to_string
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from mesa247.admin_display import (
    ReadOnlyModelAdmin,
    ReadOnlyTabularInline,
    admin_change_url,
    admin_changelist_url,
    change_link,
    changelist_link,
    money_display,
)
from mesa247.errors import ApplicationError
from mesa247.forms import MinorUnitsFormField
from mesa247.money import money
from mesa247.svg_charts import line_chart

from .admin_selectors import (
    accounts_with_balances,
    available_balance_daily,
    currencies_in_use,
    restaurant_balances_annotated,
    statement_lines_latest,
    transactions_with_totals,
)
from .models import (
    Account,
    AccountKind,
    Adjustment,
    AdjustmentDecision,
    AdjustmentStatus,
    Entry,
    LedgerCheckResult,
    Restaurant,
    RestaurantBalance,
    Transaction,
)
from .selectors import adjustments_with_status
from .serializers import StatementQuerySerializer
from .services.adjustments import (
    APPROVE_PERMISSION,
    PROPOSE_PERMISSION,
    adjustment_approve,
    adjustment_propose,
    adjustment_reject,
    adjustment_validate,
)
from .statement_formats import statement_csv_response
from .statements import statement_get

BALANCE_CHART_DAYS = 90
LATEST_LINES = 10
STATEMENT_PERMISSION = "ledger.view_entry"
SHORT_ACCOUNT_KIND = {
    AccountKind.PROCESSOR_CLEARING: "Processor clearing",
    AccountKind.RESTAURANT_PAYABLE: "Payable",
    AccountKind.RESTAURANT_RESERVED: "Reserved",
    AccountKind.HOUSE_ADJUSTMENTS: "House adjustments",
}
STATEMENT_LOOKUPS = ("account__restaurant__id__exact", "account__currency__exact", "account__kind__exact")
# Pages of the apps above the ledger, linked by label (the ledger imports neither).
PAYOUT = "payouts.payout"
EVENT = "processor.event"


def signed(amount: int, currency: str) -> str:
    """An entry or account amount in accounting terms: debit (Dr) or credit (Cr)."""
    if amount == 0:
        return money(0, currency)
    return f"{money(abs(amount), currency)} {'Dr' if amount > 0 else 'Cr'}"


def statement_url(restaurant_id: str, currency: str | None = None) -> str:
    filters = {"account__restaurant__id__exact": restaurant_id}
    if currency:
        filters["account__currency__exact"] = currency
    return admin_changelist_url(Entry, **filters)


def restaurant_links(restaurant_id: str, currency: str | None = None):
    """Where a restaurant's figures come from: its entries, payouts and processor events."""
    currency_filter = {"currency": currency} if currency else {}
    return format_html(
        '<a href="{}">statement</a> · {} · {}',
        statement_url(restaurant_id, currency),
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


@admin.register(Restaurant)
class RestaurantAdmin(ReadOnlyModelAdmin):
    list_display = ["id", "created_at", "figures"]
    search_fields = ["^id"]
    search_help_text = "Restaurant id, or its beginning."
    readonly_fields = ["id", "created_at", "balances", "figures"]
    fields = readonly_fields

    @admin.display(description="Records")
    def figures(self, obj):
        return format_html(
            '<a href="{}">balances</a> · {}',
            admin_changelist_url(RestaurantBalance, restaurant__id__exact=obj.pk),
            restaurant_links(obj.pk),
        )

    @admin.display(description="Balances")
    def balances(self, obj):
        rows = restaurant_balances_annotated(now=timezone.now()).filter(restaurant_id=obj.pk).order_by("currency")
        return format_html_join(
            "",
            "<div>{}: available {}, pending {}, reserved {}</div>",
            (
                (
                    row.currency,
                    money(row.available, row.currency),
                    money(row.pending, row.currency),
                    money(row.reserved, row.currency),
                )
                for row in rows
            ),
        ) or "No activity yet."


@admin.register(RestaurantBalance)
class RestaurantBalanceAdmin(ReadOnlyModelAdmin):
    """What we owe each restaurant, per currency: the balance projection plus pending from unmatured entries."""

    list_display = [
        "restaurant_id",
        "currency",
        "available_display",
        "pending_display",
        "reserved_display",
        "last_event_at",
        "why",
    ]
    list_display_links = ["restaurant_id"]
    list_filter = [CurrencyFilter]
    search_fields = ["^restaurant__id"]
    search_help_text = "Restaurant id, or its beginning."
    list_per_page = 100
    ordering = ["restaurant_id", "currency"]
    readonly_fields = [
        "restaurant_id",
        "currency",
        "available_display",
        "pending_display",
        "reserved_display",
        "payable_display",
        "last_event_at",
        "updated_at",
        "why",
        "statement_download",
        "balance_chart",
        "latest_lines",
    ]
    fields = readonly_fields

    def get_queryset(self, request):
        return restaurant_balances_annotated(now=timezone.now())

    def get_urls(self):
        statement = path(
            "<path:object_id>/statement.csv",
            self.admin_site.admin_view(self.statement_csv_view),
            name="ledger_restaurantbalance_statement",
        )
        return [statement, *super().get_urls()]

    def statement_csv_view(self, request, object_id):
        """The restaurant's statement for `from`…`to` (local days, default: this month so far), as CSV."""
        if not request.user.has_perm(STATEMENT_PERMISSION):
            raise PermissionDenied
        row = self.get_object(request, object_id)
        if row is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        today = timezone.localdate()
        query = {"currency": row.currency, "from": today.replace(day=1).isoformat(), "to": today.isoformat()}
        query.update({key: request.GET[key] for key in ("from", "to") if key in request.GET})
        serializer = StatementQuerySerializer(data=query)
        if not serializer.is_valid():
            errors = "; ".join(f"{field}: {' '.join(map(str, messages))}"
                               for field, messages in serializer.errors.items())
            return HttpResponseBadRequest(f"Invalid period. {errors}", content_type="text/plain; charset=utf-8")
        statement = statement_get(restaurant_id=row.restaurant_id, currency=row.currency,
                                  date_from=serializer.validated_data["from"], date_to=serializer.validated_data["to"])
        return statement_csv_response(statement)

    @admin.display(description="Statement (CSV)")
    def statement_download(self, obj):
        """Links to the statement of common periods; the view takes any `from`/`to` in its URL."""
        today = timezone.localdate()
        month_start = today.replace(day=1)
        previous_end = month_start - timedelta(days=1)
        periods = [
            ("this month so far", month_start, today),
            ("last month", previous_end.replace(day=1), previous_end),
            (f"last {BALANCE_CHART_DAYS} days", today - timedelta(days=BALANCE_CHART_DAYS - 1), today),
            ("this year so far", today.replace(month=1, day=1), today),
        ]
        url = reverse("admin:ledger_restaurantbalance_statement", args=[obj.pk])
        return format_html_join(
            " · ",
            '<a class="statement-download" href="{}?{}" download>{}</a>',
            ((url, urlencode({"from": start.isoformat(), "to": end.isoformat()}), label)
             for label, start, end in periods),
        )

    @admin.display(description="Available balance, last 90 days")
    def balance_chart(self, obj):
        today = timezone.localdate()
        days = available_balance_daily(restaurant_id=obj.restaurant_id, currency=obj.currency,
                                       first_day=today - timedelta(days=BALANCE_CHART_DAYS - 1), last_day=today)
        chart = line_chart(
            chart_id="chart-available-balance",
            title=f"Available balance at the end of each day · {obj.currency}",
            unit_note="(matured payable: a charge counts from the day it matures; excludes pending and reserved)",
            points=[(day.isoformat(), amount) for day, amount in days],
            text=lambda amount: money(amount, obj.currency),
            value_heading="Available at day end",
        )
        return render_to_string("admin/charts/chart.html", {"chart": chart})

    @admin.display(description="Latest statement lines")
    def latest_lines(self, obj):
        lines = statement_lines_latest(restaurant_id=obj.restaurant_id, currency=obj.currency, limit=LATEST_LINES)
        return render_to_string("admin/ledger/statement_lines.html", {
            "lines": [
                {
                    "entry": entry,
                    "amount": money(-entry.amount, entry.currency),
                    "amount_minor": -entry.amount,
                    "cause": cause_link(entry.transaction),
                }
                for entry in lines
            ],
            "statement_url": statement_url(obj.restaurant_id, obj.currency),
            "limit": LATEST_LINES,
        })

    available_display = money_display("available", "Available")
    pending_display = money_display("pending", "Pending")
    reserved_display = money_display("reserved", "Reserved")
    payable_display = money_display("payable", "Payable (available + pending)")

    @admin.display(description="Why")
    def why(self, obj):
        return restaurant_links(obj.restaurant_id, obj.currency)


@admin.register(Account)
class AccountAdmin(ReadOnlyModelAdmin):
    list_display = ["id", "kind", "restaurant_id", "currency", "balance_display", "entries_link"]
    list_filter = ["kind", CurrencyFilter]
    search_fields = ["^restaurant__id"]
    search_help_text = "Restaurant id, or its beginning."
    readonly_fields = ["kind", "restaurant_id", "currency", "balance_display", "created_at", "entries_link"]
    fields = readonly_fields

    def get_queryset(self, request):
        return accounts_with_balances()

    @admin.display(description="Balance", ordering="balance")
    def balance_display(self, obj):
        return signed(obj.balance, obj.currency)

    @admin.display(description="Entries")
    def entries_link(self, obj):
        return changelist_link(Entry, "entries", account__id__exact=obj.pk)


class EntryInline(ReadOnlyTabularInline):
    model = Entry
    fields = ["account", "entry_type", "amount_display", "effective_at", "settled_by"]
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


def settled_by_link(entry: Entry):
    settlement = getattr(entry, "settlement", None)
    if settlement is None:
        return "—" if entry.account.kind == AccountKind.RESTAURANT_PAYABLE else ""
    return change_link(PAYOUT, settlement.payout_id)


def cause_link(transaction: Transaction):
    parts = []
    if transaction.event_id:
        parts.append(change_link(EVENT, transaction.event_id, f"event {transaction.event.event_id}"))
    if transaction.payout_id:
        parts.append(change_link(PAYOUT, transaction.payout_id, f"payout {transaction.payout_id}"))
    if transaction.adjustment_id:
        parts.append(change_link(Adjustment, transaction.adjustment_id, f"adjustment #{transaction.adjustment_id}"))
    return format_html_join(" · ", "{}", ((part,) for part in parts)) or "—"


@admin.register(Transaction)
class TransactionAdmin(ReadOnlyModelAdmin):
    list_display = ["id", "posted_at", "kind", "restaurant_id", "currency", "total_display", "cause"]
    list_filter = ["kind", CurrencyFilter, "posted_at"]
    list_select_related = ["event"]
    # (A transaction's memo is its event id or payout id: searching those covers it.)
    exact_search_fields = ("restaurant_id", "event__event_id", "payout_id")
    search_help_text = "Exact restaurant id, event id or payout id."
    show_full_result_count = False
    readonly_fields = ["kind", "restaurant_id", "currency", "total_display", "cause", "posted_at", "memo"]
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
    extra_lookups = STATEMENT_LOOKUPS + ("account__id__exact", "settlement__payout__id__exact")
    exact_search_fields = ("account__restaurant_id", "transaction__event__event_id", "settlement__payout_id")
    search_help_text = "Exact restaurant id, event id, or the id of the payout that settled the entry."
    show_full_result_count = False
    readonly_fields = [
        "transaction_link",
        "account",
        "entry_type",
        "amount_display",
        "effective_at",
        "cause",
        "settled_by",
    ]
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
    readonly_fields = ["checked_at", "ok", "summary", "problem_list", "counts_display", "duration_ms"]
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


class AdjustmentStatusFilter(admin.SimpleListFilter):
    title = "status"
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return AdjustmentStatus.choices

    def queryset(self, request, queryset):
        # The admin's queryset is adjustments_with_status(): `status` is annotated already.
        return queryset.filter(status=self.value()) if self.value() in AdjustmentStatus.values else queryset


class AdjustmentProposeForm(forms.ModelForm):
    """The proposal form: the same field rules as the service (`adjustment_validate`)."""

    restaurant_id = forms.CharField(max_length=64, help_text="The restaurant's id, e.g. res_001.")
    currency = forms.ChoiceField(choices=())
    amount = MinorUnitsFormField(
        help_text="Minor units, restaurant-facing: 1500 credits the restaurant PEN 15.00, -1500 charges it."
    )

    class Meta:
        model = Adjustment
        fields = ["restaurant_id", "currency", "amount", "reason", "note", "reference"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["currency"].choices = [(code, code) for code in settings.SUPPORTED_CURRENCIES]

    def clean(self):
        data = super().clean()
        if not self.errors:
            errors = adjustment_validate(
                restaurant_id=data["restaurant_id"], currency=data["currency"], amount=data["amount"],
                reason=data["reason"], note=data["note"], reference=data.get("reference", ""),
            )
            for field, messages in errors.items():
                for message in messages:
                    self.add_error(field, message)
        return data

    def _post_clean(self):
        # The proposer and the time are the service's to set; the model's own checks run there and in PostgreSQL.
        pass


@admin.register(Adjustment)
class AdjustmentAdmin(ReadOnlyModelAdmin):
    """Propose (Finance manager), then approve or reject (a different Finance approver).

    Proposals and decisions are never edited or deleted. The buttons and actions call the
    services, which refuse the proposer with a clear message; the database refuses it too.
    """

    list_display = ["id", "proposed_at", "restaurant_id", "amount_display", "reason", "status_display",
                    "proposed_by", "decided_by_display", "posting"]
    list_filter = [AdjustmentStatusFilter, "currency", "reason"]
    list_select_related = ["proposed_by", "decision", "decision__decided_by", "ledger_transaction"]
    exact_search_fields = ("restaurant_id", "reference")
    search_help_text = "Exact restaurant id or reference."
    actions = ["approve_selected", "reject_selected"]
    change_form_template = "admin/ledger/adjustment/change_form.html"
    readonly_fields = ["id", "restaurant_id", "currency", "amount_display", "reason", "note", "reference",
                       "status_display", "proposed_by", "proposed_at", "decided_by_display", "decided_at",
                       "posting"]
    add_form = AdjustmentProposeForm

    def get_queryset(self, request):
        return adjustments_with_status()

    def has_add_permission(self, request, obj=None):
        return request.user.has_perm(PROPOSE_PERMISSION)

    def has_approve_permission(self, request):
        return request.user.has_perm(APPROVE_PERMISSION)

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else self.readonly_fields

    def get_fields(self, request, obj=None):
        return self.add_form.Meta.fields if obj is None else self.readonly_fields

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            return self.add_form
        return super().get_form(request, obj, change=change, **kwargs)

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        proposed = adjustment_propose(
            restaurant_id=data["restaurant_id"], currency=data["currency"], amount=data["amount"],
            reason=data["reason"], note=data["note"], reference=data.get("reference", ""), proposed_by=request.user,
        )
        obj.pk = proposed.pk
        obj.restaurant_id, obj.currency, obj.amount = proposed.restaurant_id, proposed.currency, proposed.amount

    def save_related(self, request, form, formsets, change):
        pass

    def response_add(self, request, obj, post_url_continue=None):
        messages.success(request, f"Adjustment #{obj.pk} proposed: {money(obj.amount, obj.currency)} for "
                                  f"{obj.restaurant_id}. Another Finance approver must approve it.")
        return HttpResponseRedirect(admin_change_url(Adjustment, obj.pk))

    @admin.display(description="Amount", ordering="amount")
    def amount_display(self, obj):
        return money(obj.amount, obj.currency)

    @admin.display(description="Status", ordering="status")
    def status_display(self, obj):
        return AdjustmentStatus(obj.status).label

    @admin.display(description="Decided by")
    def decided_by_display(self, obj):
        decision = getattr(obj, "decision", None)
        return decision.decided_by.username if decision else "—"

    @admin.display(description="Decided at")
    def decided_at(self, obj):
        decision = getattr(obj, "decision", None)
        return decision.decided_at if decision else "—"

    @admin.display(description="Ledger transaction")
    def posting(self, obj):
        posted = getattr(obj, "ledger_transaction", None)
        return change_link(Transaction, posted.pk, f"#{posted.pk}") if posted else "—"

    def _decide(self, request, adjustments, service, verb):
        for adjustment in adjustments:
            try:
                service(adjustment_id=adjustment.pk, decided_by=request.user)
            except ApplicationError as error:
                messages.error(request, f"Adjustment #{adjustment.pk} not {verb}: {error.detail}")
            else:
                messages.success(request, f"Adjustment #{adjustment.pk} {verb}.")

    @admin.action(description="Approve selected adjustments (posts them)", permissions=["approve"])
    def approve_selected(self, request, queryset):
        self._decide(request, queryset, adjustment_approve, "approved")

    @admin.action(description="Reject selected adjustments", permissions=["approve"])
    def reject_selected(self, request, queryset):
        self._decide(request, queryset, adjustment_reject, "rejected")

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        return [
            path("<path:object_id>/approve/", self.admin_site.admin_view(self.decide_view),
                 {"decision": "approve"}, name=f"{info[0]}_{info[1]}_approve"),
            path("<path:object_id>/reject/", self.admin_site.admin_view(self.decide_view),
                 {"decision": "reject"}, name=f"{info[0]}_{info[1]}_reject"),
            *super().get_urls(),
        ]

    def decide_view(self, request, object_id, decision):
        """The Approve / Reject buttons of an adjustment's page (POST only)."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not self.has_approve_permission(request):
            raise PermissionDenied
        adjustment = self.get_object(request, unquote(object_id))
        if adjustment is None:
            raise Http404(f"No adjustment {object_id!r}.")
        service, verb = (adjustment_approve, "approved") if decision == "approve" else (adjustment_reject, "rejected")
        self._decide(request, [adjustment], service, verb)
        return HttpResponseRedirect(admin_change_url(Adjustment, adjustment.pk))

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:
            context["can_decide"] = (self.has_approve_permission(request) and obj.status == AdjustmentStatus.PENDING
                                     and obj.proposed_by_id != request.user.pk)
            context["proposed_by_you"] = obj.proposed_by_id == request.user.pk
            context["adjustment_pending"] = obj.status == AdjustmentStatus.PENDING
        return super().render_change_form(request, context, add=add, change=change, form_url=form_url, obj=obj)


@admin.register(AdjustmentDecision)
class AdjustmentDecisionAdmin(ReadOnlyModelAdmin):
    list_display = ["adjustment", "decision", "decided_by", "decided_at"]
    list_filter = ["decision"]
    list_select_related = ["adjustment", "decided_by"]
    readonly_fields = ["adjustment", "decision", "decided_by", "decided_at"]
    fields = readonly_fields
