"""Reconciliation in the finance back office: the reports (and their upload), and the exceptions queue,
open first, with the resolutions as bulk actions calling the same services as the API; and, on the event,
payout, restaurant and balance pages of the apps below, where the processor's reports stand on them."""

from datetime import timedelta

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.helpers import ActionForm
from django.core.exceptions import PermissionDenied
from django.db.models import F
from django.http import HttpResponseRedirect
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone

from audit.edge import request_address
from ledger.admin import CurrencyFilter, balance_page_row_add, restaurant_page_rows
from ledger.models import Transaction
from mesa247.admin_display import ReadOnlyModelAdmin, ReadOnlyTabularInline, change_link, money_display
from payouts.admin import payout_page_rows
from processor.admin import event_page_rows
from processor.models import PAYOUT_EVENT_TYPES, Event

from .exceptions import ReportConflict, ReportRefused
from .models import (
    EXCEPTION_OUTCOMES,
    ReconciliationException,
    ReportCurrencyTotal,
    ResolutionAction,
    SettlementReport,
)
from .resolutions import exceptions_resolve
from .selectors import (
    event_reconciliation_get,
    exception_confirming_event,
    open_exceptions_summary,
    payout_reconciliation_get,
)
from .services import report_receive

UPLOAD_PERMISSION = "reconciliation.add_settlementreport"
RESOLVE_PERMISSION = "reconciliation.change_reconciliationexception"


class ReportUploadForm(forms.Form):
    report = forms.FileField(help_text="The processor's settlement report (CSV, UTF-8, with a header row).")


class CurrencyTotalInline(ReadOnlyTabularInline):
    model = ReportCurrencyTotal
    fields = ("currency", "report_net", "matched_net", "drift")
    readonly_fields = fields

    @admin.display(description="drift (report − matched)")
    def drift(self, obj):
        return obj.drift


@admin.register(SettlementReport)
class SettlementReportAdmin(ReadOnlyModelAdmin):
    list_display = ("report_id", "status", "lines", "matched", "mismatched", "missing_from_ledger", "duplicate",
                    "received_at", "reconciled_at")
    list_filter = ("status", "received_at")
    exact_search_fields = ("report_id",)
    fields = ("report_id", "status", "lines", "matched", "mismatched", "missing_from_ledger", "duplicate",
              "uploaded_by", "received_at", "reconciled_at", "error", "digest")
    inlines = [CurrencyTotalInline]

    def get_urls(self):
        upload = path("upload/", self.admin_site.admin_view(self.upload_view),
                      name="reconciliation_settlementreport_upload")
        return [upload, *super().get_urls()]

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "can_upload_report": request.user.has_perm(UPLOAD_PERMISSION)}
        return super().changelist_view(request, extra_context)

    def upload_view(self, request):
        """Receive a report exactly as `POST /v1/reconciliation/reports` does; a worker reconciles it."""
        if not request.user.has_perm(UPLOAD_PERMISSION):
            raise PermissionDenied
        form = ReportUploadForm(request.POST or None, request.FILES or None)
        context = {**self.admin_site.each_context(request), "title": "Upload a settlement report",
                   "opts": self.model._meta, "form": form}
        if request.method == "POST" and form.is_valid():
            try:
                receipt = report_receive(stream=form.cleaned_data["report"], uploaded_by=request.user,
                                         address=request_address(request))
            except ReportRefused as error:
                context.update(refused=error.detail, problems=error.extra["lines"])
            except ReportConflict as error:
                form.add_error("report", error.detail)
            else:
                report = receipt.report
                self.message_user(request, f"Report {report.pk} queued for reconciliation." if receipt.created
                                  else f"Report {report.pk} was received before: nothing new was written.",
                                  messages.SUCCESS if receipt.created else messages.WARNING)
                return HttpResponseRedirect(reverse("admin:reconciliation_settlementreport_change",
                                                    args=[report.pk]))
        return TemplateResponse(request, "admin/reconciliation/settlementreport/upload.html", context)


class OpenFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [("open", "Open"), ("resolved", "Resolved")]

    def queryset(self, request, queryset):
        if self.value() == "open":
            return queryset.filter(resolved_at__isnull=True)
        if self.value() == "resolved":
            return queryset.filter(resolved_at__isnull=False)
        return queryset


class OutcomeFilter(admin.SimpleListFilter):
    """The outcomes an exception can have (a matched or duplicate line raises none)."""

    title = "outcome"
    parameter_name = "outcome"

    def lookups(self, request, model_admin):
        return [(outcome.value, outcome.label) for outcome in EXCEPTION_OUTCOMES]

    def queryset(self, request, queryset):
        value = self.value()
        return queryset.filter(outcome=value) if value else queryset


class AgeFilter(admin.SimpleListFilter):
    title = "age"
    parameter_name = "age"
    DAYS = {"1": 1, "7": 7, "30": 30}

    def lookups(self, request, model_admin):
        return [(key, f"Open over {days} day{'s' if days > 1 else ''}") for key, days in self.DAYS.items()]

    def queryset(self, request, queryset):
        days = self.DAYS.get(self.value() or "")
        if days is None:
            return queryset
        return queryset.filter(opened_at__lt=timezone.now() - timedelta(days=days))


class ResolutionActionForm(ActionForm):
    note = forms.CharField(required=False, max_length=2000, help_text="Why (required by every resolution).")


def _resolution_action(action: str, description: str):
    @admin.action(description=description, permissions=["resolve"])
    def resolve(model_admin, request, queryset):
        note = request.POST.get("note", "").strip()
        if not note:
            model_admin.message_user(request, "Write a note saying why: nothing was resolved.", messages.ERROR)
            return
        outcome = exceptions_resolve(exception_ids=list(queryset.values_list("pk", flat=True)), action=action,
                                     note=note, user=request.user, address=request_address(request))
        done = [pk for pk, error in outcome.items() if error is None]
        if done:
            model_admin.message_user(request, f"{len(done)} exception(s) resolved ({action}).", messages.SUCCESS)
        for pk, error in outcome.items():
            if error is not None:
                model_admin.message_user(request, f"Exception {pk}: {error}", messages.ERROR)

    resolve.__name__ = action
    return resolve


@admin.register(ReconciliationException)
class ReconciliationExceptionAdmin(ReadOnlyModelAdmin):
    list_display = ("id", "outcome", "fields", "restaurant_id", "currency", "amount_display", "report",
                    "opened_at", "action", "resolved_by", "resolved_at")
    list_filter = (OpenFilter, OutcomeFilter, CurrencyFilter, AgeFilter)
    exact_search_fields = ("restaurant_id", "report__report_id")
    search_help_text = "Exact restaurant id or report id."
    action_form = ResolutionActionForm
    actions = [_resolution_action(ResolutionAction.RECORD_FROM_REPORT, "Record the events from the report"),
               _resolution_action(ResolutionAction.APPLY_PAYOUT_STATUS, "Apply the report's payout status"),
               _resolution_action(ResolutionAction.EXPLAIN, "Explain (close with the note; moves no money)")]
    fields = ("outcome", "fields", "report", "line", "event", "payout", "restaurant_id", "currency",
              "amount_display", "opened_at", "action", "note", "resolved_by", "resolved_at", "posting_link",
              "confirmed_by_display")
    amount_display = money_display("amount", "amount")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("report", "resolved_by",
                                                            "ledger_transaction__confirmation__event")

    @admin.display(description="posted")
    def posting_link(self, obj):
        return change_link(Transaction, obj.ledger_transaction_id, f"#{obj.ledger_transaction_id}")

    @admin.display(description="confirmed by the processor's webhook")
    def confirmed_by_display(self, obj):
        if obj.ledger_transaction_id is None:
            return "—"
        event = exception_confirming_event(exception=obj)
        if event is None:
            return "not yet: no payout webhook for this status has come"
        return change_link(Event, event.pk, f"{event.event_id}, received {event.received_at:%Y-%m-%d %H:%M:%S %Z}")

    def get_ordering(self, request):
        return [F("resolved_at").asc(nulls_first=True), "-opened_at", "-id"]

    def has_resolve_permission(self, request) -> bool:
        return request.user.has_perm(RESOLVE_PERMISSION)


# Where the processor's reports stand, on the pages of the apps below (which import nothing of this app).
SECTION = "Reconciliation with the processor's settlement reports"


def _queue_url() -> str:
    return reverse("admin:reconciliation_reconciliationexception_changelist")


@event_page_rows.add(section=SECTION)
@admin.display(description="Reports")
def event_reconciliation(event):
    return render_to_string("admin/reconciliation/event_state.html", {
        "summary": event_reconciliation_get(event=event), "grace_days": settings.RECONCILIATION_GRACE_DAYS,
        "is_payout_event": event.event_type in PAYOUT_EVENT_TYPES})


@payout_page_rows.add(section=SECTION)
@admin.display(description="Reports")
def payout_reconciliation(payout):
    return render_to_string("admin/reconciliation/payout_state.html", {
        "summary": payout_reconciliation_get(payout=payout), "payout": payout})


def _restaurant_state(restaurant_id: str, currency: str | None = None) -> str:
    return render_to_string("admin/reconciliation/restaurant_state.html", {
        "summary": open_exceptions_summary(restaurant_id=restaurant_id, currency=currency),
        "restaurant_id": restaurant_id, "currency": currency, "queue_url": _queue_url()})


@restaurant_page_rows.add
@admin.display(description="Reconciliation")
def restaurant_reconciliation(restaurant):
    return _restaurant_state(restaurant.pk)


@balance_page_row_add
@admin.display(description="Reconciliation")
def balance_reconciliation(balance):
    return _restaurant_state(balance.restaurant_id, balance.currency)
