"""Manual adjustments in the back office: proposed on the add page, decided by another approver."""

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseNotAllowed, HttpResponseRedirect
from django.urls import path

from audit.edge import request_address
from mesa247.admin_display import FinanceChangelistMixin, ReadOnlyModelAdmin, admin_change_url, change_link
from mesa247.errors import ApplicationError
from mesa247.forms import MinorUnitsFormField
from mesa247.money import money

from ..models import Adjustment, AdjustmentDecision, AdjustmentStatus, Transaction
from ..selectors import adjustments_with_status
from ..services.adjustments import (
    APPROVE_PERMISSION,
    PROPOSE_PERMISSION,
    adjustment_approve,
    adjustment_propose,
    adjustment_reject,
)


class AdjustmentStatusFilter(admin.SimpleListFilter):
    title = "status"
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return AdjustmentStatus.choices

    def queryset(self, request, queryset):
        # The admin's queryset is adjustments_with_status(): `status` is annotated already.
        return queryset.filter(status=self.value()) if self.value() in AdjustmentStatus.values else queryset


class AdjustmentProposeForm(forms.ModelForm):
    """The add page's form: it parses the fields, then proposes through the service, whose rules
    (`adjustment_validate`) and messages are the only ones; the admin's add view holds the
    transaction, so a page that fails later records nothing."""

    restaurant_id = forms.CharField(max_length=64, help_text="The restaurant's id, e.g. res_001.")
    currency = forms.ChoiceField(choices=lambda: [(code, code) for code in settings.SUPPORTED_CURRENCIES])
    amount = MinorUnitsFormField(
        help_text="Minor units, restaurant-facing: 1500 credits the restaurant PEN 15.00, -1500 charges it."
    )
    proposed_by = None  # the requesting user and its address, set by AdjustmentAdmin.get_form
    proposed_from = None

    class Meta:
        model = Adjustment
        fields = ["currency", "amount", "reason", "note", "reference"]  # and restaurant_id, declared above

    def clean(self):
        data = super().clean()
        if self.errors:  # a field that does not parse says so first
            return data
        try:
            self.instance = adjustment_propose(
                restaurant_id=data["restaurant_id"], currency=data["currency"], amount=data["amount"],
                reason=data["reason"], note=data["note"], reference=data.get("reference", ""),
                proposed_by=self.proposed_by, address=self.proposed_from,
            )
        except ApplicationError as error:
            if not error.errors:
                self.add_error(None, error.detail)
            for field, messages in (error.errors or {}).items():
                self.add_error(field if field in self.fields else None, messages)
        return data


@admin.register(Adjustment)
class AdjustmentAdmin(FinanceChangelistMixin, admin.ModelAdmin):
    """Propose (Finance manager) on Django's add page, then approve or reject (a different Finance approver).

    Proposals and decisions are never edited or deleted. The add form, the buttons and the actions
    call the services, which refuse the proposer with a clear message; the database refuses it too.
    """

    list_display = ["id", "proposed_at", "restaurant_id", "amount_display", "reason", "status_display",
                    "proposed_by", "decided_by_display", "posting"]
    list_filter = [AdjustmentStatusFilter, "currency", "reason"]
    list_select_related = ["proposed_by", "decision", "decision__decided_by", "ledger_transaction"]
    exact_search_fields = ("restaurant_id", "reference")
    search_help_text = "Exact restaurant id or reference."
    actions = ["approve_selected", "reject_selected"]
    change_form_template = "admin/ledger/adjustment/change_form.html"
    form = AdjustmentProposeForm
    # The add page's fields, and what a recorded adjustment's page shows.
    add_fields = ["restaurant_id", "currency", "amount", "reason", "note", "reference"]
    detail_fields = ["id", "restaurant_id", "currency", "amount_display", "reason", "note", "reference",
                     "status_display", "proposed_by", "proposed_at", "decided_by_display", "decided_at", "posting"]

    def get_queryset(self, request):
        return adjustments_with_status()

    def has_add_permission(self, request):
        return request.user.has_perm(PROPOSE_PERMISSION)

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_approve_permission(self, request):
        return request.user.has_perm(APPROVE_PERMISSION)

    def get_fields(self, request, obj=None):
        return self.add_fields if obj is None else self.detail_fields

    def get_readonly_fields(self, request, obj=None):
        return () if obj is None else self.detail_fields

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        form.proposed_by = request.user  # a class made for this request by modelform_factory
        form.proposed_from = request_address(request)
        return form

    def save_model(self, request, obj, form, change):
        """Nothing left to save: the form's service call recorded the proposal (an adjustment is append-only)."""

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
                service(adjustment_id=adjustment.pk, decided_by=request.user, address=request_address(request))
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
    readonly_fields = ("adjustment", "decision", "decided_by", "decided_at")
    fields = readonly_fields
