"""Payouts and payout runs in the finance back office.

Read-only like every money record. Finance managers (payouts.add_payoutrun)
start runs from the "Run payouts" page, which queues the same task as the API;
holders of payouts.export_payout download payouts as CSV. A payout's page shows
what apps above payouts know about it through `payout_page_rows` (reconciliation:
the settlement report lines that name it).
"""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import F
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from audit.edge import request_address
from ledger.admin import CurrencyFilter, balance_page_row_add
from ledger.models import Entry, RestaurantBalance, Transaction
from mesa247.admin_display import (
    PageRows,
    ReadOnlyModelAdmin,
    ReadOnlyTabularInline,
    admin_changelist_url,
    change_link,
    changelist_link,
    local_time,
    money_display,
)
from mesa247.errors import ApplicationError
from mesa247.money import money

# Register the holds', the payout schedules' and django-q2's schedules' pages.
from . import admin_holds, admin_task_schedules  # noqa: F401
from .admin_selectors import payout_postings, payout_settled_events, payouts_open
from .admin_views import EXPORT_PERMISSION, RUN_PAYOUTS_PERMISSION, PayoutRunRequestForm, payouts_csv_response
from .models import Payout, PayoutItem, PayoutRun, PayoutRunStatus
from .services import payout_run_request

SETTLED_EVENTS_SHOWN = 50
# The processor's event pages, linked by label (payouts does not import the processor).
EVENT = "processor.event"
SETTLED_EVENTS_LOOKUP = "ledger_transaction__entries__settlement__payout__id__exact"
# Rows that apps above payouts add to a payout's page: callables taking the Payout.
payout_page_rows = PageRows()


class PayoutItemInline(ReadOnlyTabularInline):
    model = PayoutItem
    fields = ("type", "count", "amount_display")
    readonly_fields = fields
    ordering = ["id"]
    verbose_name = "item"
    verbose_name_plural = "Items (they sum to the payout's amount)"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("payout")

    @admin.display(description="Amount")
    def amount_display(self, obj):
        return format_html('<span class="payout-item-amount" data-minor="{}">{}</span>', obj.amount,
                           money(obj.amount, obj.payout.currency))


@balance_page_row_add
@admin.display(description="Open payouts (reserved)")
def open_payouts(balance):
    """On the ledger's balance page: the open payouts that hold its reserved money."""
    payouts = payouts_open(restaurant_id=balance.restaurant_id, currency=balance.currency)
    return format_html_join(
        "",
        "<div>{} as of {}: {}</div>",
        ((change_link(Payout, p.pk), p.as_of, money(p.amount, p.currency)) for p in payouts),
    ) or "None."


@admin.register(Payout)
class PayoutAdmin(ReadOnlyModelAdmin):
    list_display = [
        "id",
        "restaurant_id",
        "currency",
        "amount_display",
        "status",
        "as_of",
        "created_at",
        "paid_at",
        "failed_at",
        "run_link",
    ]
    list_filter = ["status", CurrencyFilter, "as_of"]
    date_hierarchy = "as_of"
    exact_search_fields = ("restaurant_id", "id")
    search_help_text = "Exact restaurant id or payout id."
    show_full_result_count = False
    actions = ["export_selected_csv"]
    inlines = [PayoutItemInline]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "id",
                    "restaurant_link",
                    "currency",
                    "as_of",
                    "amount_display",
                    "items_check",
                    "status",
                    "created_at",
                    "paid_at",
                    "failed_at",
                    "failure_reason",
                    "run_link",
                ]
            },
        ),
        ("Why: the ledger behind this payout", {"fields": ["postings", "settled_events", "settled_entries"]}),
    ]

    def get_fieldsets(self, request, obj=None):
        return payout_page_rows.fieldsets(self.fieldsets)

    def get_urls(self):
        export = path(
            "export/",
            self.admin_site.admin_view(self.export_filtered_view),
            name="payouts_payout_export",
        )
        return [export, *super().get_urls()]

    def has_export_permission(self, request):
        return request.user.has_perm(EXPORT_PERMISSION)

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "can_export": self.has_export_permission(request)}
        return super().changelist_view(request, extra_context)

    @admin.action(description="Export selected payouts to CSV (one line per item)", permissions=["export"])
    def export_selected_csv(self, request, queryset):
        return payouts_csv_response(payouts=queryset, filename_hint="selected")

    def export_filtered_view(self, request):
        """The payouts the changelist shows with the same filters and search, as CSV."""
        if not self.has_export_permission(request):
            raise PermissionDenied
        return payouts_csv_response(payouts=self.changelist_queryset(request), filename_hint="filtered")

    @admin.display(description="Amount", ordering="amount")
    def amount_display(self, obj):
        return format_html('<span class="payout-amount" data-minor="{}">{}</span>', obj.amount,
                           money(obj.amount, obj.currency))

    @admin.display(description="Run", ordering="run__requested_at")
    def run_link(self, obj):
        return change_link(PayoutRun, obj.run_id, str(obj.run_id)[:8]) if obj.run_id else "—"

    @admin.display(description="Restaurant")
    def restaurant_link(self, obj):
        balance = RestaurantBalance.objects.filter(restaurant_id=obj.restaurant_id, currency=obj.currency).first()
        balance_link = change_link(RestaurantBalance, balance.pk, "balance") if balance else "no balance"
        return format_html("{} ({} · {})", obj.restaurant_id, balance_link,
                           changelist_link(Payout, "all its payouts", restaurant__id__exact=obj.restaurant_id))

    @admin.display(description="Items total")
    def items_check(self, obj):
        total = sum(item.amount for item in obj.items.all())
        if total == obj.amount:
            return format_html("{} — equals the amount ✓", money(total, obj.currency))
        return format_html('<strong class="errornote">{} — differs from the amount {}</strong>',
                           money(total, obj.currency), money(obj.amount, obj.currency))

    @admin.display(description="Ledger postings")
    def postings(self, obj):
        rows = payout_postings(payout=obj)
        return format_html_join(
            "",
            "<div>{} · {} · posted {}{}</div>",
            (
                (
                    change_link(Transaction, posting.pk, f"#{posting.pk}"),
                    posting.get_kind_display(),
                    local_time(posting.posted_at),
                    format_html(" · by event {}", change_link(EVENT, posting.event_id, posting.event.event_id))
                    if posting.event_id
                    else "",
                )
                for posting in rows
            ),
        ) or "None."

    @admin.display(description="Events settled by this payout")
    def settled_events(self, obj):
        transactions = payout_settled_events(payout=obj)
        shown = [posting.event for posting in transactions[: SETTLED_EVENTS_SHOWN + 1]]
        lines = format_html_join(
            "",
            "<div>{} · {} · {} · occurred {}</div>",
            (
                (
                    change_link(EVENT, event.pk, event.event_id),
                    event.get_event_type_display(),
                    money(event.amount, event.currency),
                    local_time(event.occurred_at),
                )
                for event in shown[:SETTLED_EVENTS_SHOWN]
            ),
        )
        if not shown:
            return "None: this payout only carries an earlier balance."
        more = ""
        if len(shown) > SETTLED_EVENTS_SHOWN:
            more = format_html("<div>… and more: {}</div>",
                               changelist_link(EVENT, "see them all", **{SETTLED_EVENTS_LOOKUP: obj.pk}))
        return format_html("{}{}", lines, more)

    @admin.display(description="Settled entries")
    def settled_entries(self, obj):
        return changelist_link(Entry, "the payable entries this payout settled", settlement__payout__id__exact=obj.pk)


@admin.register(PayoutRun)
class PayoutRunAdmin(ReadOnlyModelAdmin):
    list_display = [
        "short_id",
        "currency",
        "as_of",
        "min_amount_display",
        "status",
        "eligible",
        "created",
        "skipped",
        "held",
        "total_amount_display",
        "duration_display",
        "requested_by",
        "requested_at",
        "error_summary",
    ]
    list_filter = ["status", CurrencyFilter, "as_of"]
    list_select_related = ["requested_by"]
    readonly_fields = (
        "id",
        "currency",
        "as_of",
        "min_amount_display",
        "status",
        "eligible",
        "created",
        "skipped",
        "held",
        "respect_schedules",
        "total_amount_display",
        "attempts",
        "requested_by",
        "requested_at",
        "queued_at",
        "started_at",
        "finished_at",
        "duration_display",
        "error",
        "payouts_link",
    )
    fields = readonly_fields

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(duration=F("finished_at") - F("started_at"))

    def get_urls(self):
        run = path("run/", self.admin_site.admin_view(self.run_payouts_view), name="payouts_payoutrun_run")
        return [run, *super().get_urls()]

    def has_run_payouts_permission(self, request) -> bool:
        return request.user.has_perm(RUN_PAYOUTS_PERMISSION)

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "can_run_payouts": self.has_run_payouts_permission(request)}
        return super().changelist_view(request, extra_context)

    def run_payouts_view(self, request):
        """Queue a payout run exactly as `POST /v1/payouts/run` does, then show the run."""
        if not self.has_run_payouts_permission(request):
            raise PermissionDenied
        form = PayoutRunRequestForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                run = payout_run_request(
                    currency=form.cleaned_data["currency"],
                    as_of=form.cleaned_data["as_of"],
                    min_amount=form.cleaned_data["min_amount"],
                    requested_by=request.user,
                    address=request_address(request),
                    via="admin",
                )
            except ApplicationError as error:
                form.add_service_errors(error.errors, error.detail)
            else:
                self.message_user(
                    request,
                    f"Payout run {run.pk} queued for {run.currency} as of {run.as_of.isoformat()}.",
                    messages.SUCCESS,
                )
                return HttpResponseRedirect(reverse("admin:payouts_payoutrun_change", args=[run.pk]))
        context = {
            **self.admin_site.each_context(request),
            "title": "Run payouts",
            "opts": self.model._meta,
            "form": form,
            "media": self.media + form.media,
        }
        return TemplateResponse(request, "admin/payouts/payoutrun/run_payouts.html", context)

    @admin.display(description="Run", ordering="requested_at")
    def short_id(self, obj):
        return str(obj.pk)[:8]

    min_amount_display = money_display("min_amount", "Minimum")
    total_amount_display = money_display("total_amount", "Total paid out")

    @admin.display(description="Duration", ordering="duration")
    def duration_display(self, obj):
        duration = getattr(obj, "duration", None)
        if duration is None:
            return "running" if obj.status == PayoutRunStatus.RUNNING else "—"
        return f"{duration.total_seconds():.1f} s"

    @admin.display(description="Error")
    def error_summary(self, obj):
        return (obj.error[:80] + "…") if len(obj.error) > 80 else obj.error

    @admin.display(description="Payouts")
    def payouts_link(self, obj):
        return format_html(
            '<a href="{}">payouts of this run</a>', admin_changelist_url(Payout, run__id__exact=str(obj.pk))
        )
