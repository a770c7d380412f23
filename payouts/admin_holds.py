"""Payout holds and payout schedules in the back office: placed, released and changed through the services.

Holds, releases and schedule versions are append-only: the add pages record a new one, nothing is ever
edited or deleted. A hold's release is a button on its page (and an action), by a second finance manager.
"""

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseNotAllowed, HttpResponseRedirect
from django.urls import path

from audit.edge import request_address
from mesa247.admin_display import FinanceChangelistMixin, ReadOnlyModelAdmin, admin_change_url
from mesa247.errors import ApplicationError

from .models import PayoutHold, PayoutHoldRelease, PayoutSchedule
from .services import payout_hold_place, payout_hold_release, payout_schedule_set

PLACE_PERMISSION = "payouts.add_payouthold"
RELEASE_PERMISSION = "payouts.add_payoutholdrelease"
SCHEDULE_PERMISSION = "payouts.add_payoutschedule"
ALL_CURRENCIES = ""


class ServiceFormMixin(forms.BaseForm):
    """A form that records through a service in clean(): the service's rules and messages are the only ones."""

    def errors_from(self, error: ApplicationError) -> None:
        if not error.errors:
            self.add_error(None, error.detail)
        for field, field_messages in (error.errors or {}).items():
            self.add_error(field if field in self.fields else None, field_messages)


class PayoutHoldPlaceForm(ServiceFormMixin, forms.ModelForm):
    restaurant_id = forms.CharField(max_length=64, help_text="The restaurant's id, e.g. res_001.")
    currency = forms.ChoiceField(
        required=False,
        choices=lambda: [(ALL_CURRENCIES, "All currencies"), *((code, code) for code in settings.SUPPORTED_CURRENCIES)])
    placed_by = None  # the requesting user, set by PayoutHoldAdmin.get_form
    address: str | None = None  # and their address, for the audit trail

    class Meta:
        model = PayoutHold
        fields = ["currency", "reason"]  # and restaurant_id, declared above

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        data["currency"] = data["currency"] or None  # "All currencies"
        try:
            self.instance = payout_hold_place(restaurant_id=data["restaurant_id"], currency=data["currency"],
                                              reason=data["reason"], placed_by=self.placed_by,
                                              address=self.address)
        except ApplicationError as error:
            self.errors_from(error)
        return data


@admin.register(PayoutHold)
class PayoutHoldAdmin(FinanceChangelistMixin, admin.ModelAdmin):
    """Place a hold (finance manager) on the add page; release it from its page (a different finance manager)."""

    list_display = ["id", "placed_at", "restaurant_id", "currency_display", "reason", "status_display",
                    "placed_by", "released_by_display", "released_at_display"]
    list_filter = ["currency"]
    list_select_related = ["placed_by", "release", "release__released_by"]
    exact_search_fields = ("restaurant_id",)
    search_help_text = "Exact restaurant id."
    actions = ["release_selected"]
    change_form_template = "admin/payouts/payouthold/change_form.html"
    form = PayoutHoldPlaceForm
    add_fields = ["restaurant_id", "currency", "reason"]
    detail_fields = ["id", "restaurant_id", "currency_display", "reason", "status_display", "placed_by",
                     "placed_at", "released_by_display", "released_at_display"]

    def has_add_permission(self, request):
        return request.user.has_perm(PLACE_PERMISSION)

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_release_permission(self, request):
        return request.user.has_perm(RELEASE_PERMISSION)

    def get_fields(self, request, obj=None):
        return self.add_fields if obj is None else self.detail_fields

    def get_readonly_fields(self, request, obj=None):
        return () if obj is None else self.detail_fields

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        form.placed_by = request.user
        form.address = request_address(request)
        return form

    def save_model(self, request, obj, form, change):
        """Nothing left to save: the form's service call recorded the hold (a hold is append-only)."""

    def response_add(self, request, obj, post_url_continue=None):
        messages.success(request, f"Payouts of {obj.restaurant_id} held ({obj.currency or 'all currencies'}). "
                                  "Another finance manager must release the hold.")
        return HttpResponseRedirect(admin_change_url(PayoutHold, obj.pk))

    @admin.display(description="Currency", ordering="currency")
    def currency_display(self, obj):
        return obj.currency or "All currencies"

    @admin.display(description="Status")
    def status_display(self, obj):
        return "Released" if _release(obj) else "Active"

    @admin.display(description="Released by")
    def released_by_display(self, obj):
        release = _release(obj)
        return release.released_by.username if release else "—"

    @admin.display(description="Released at")
    def released_at_display(self, obj):
        release = _release(obj)
        return release.released_at if release else "—"

    def _release(self, request, holds):
        for hold in holds:
            try:
                payout_hold_release(hold_id=hold.pk, released_by=request.user,
                                    address=request_address(request))
            except ApplicationError as error:
                messages.error(request, f"Hold #{hold.pk} not released: {error.detail}")
            else:
                messages.success(request, f"Hold #{hold.pk} released: the next run pays {hold.restaurant_id}.")

    @admin.action(description="Release selected holds", permissions=["release"])
    def release_selected(self, request, queryset):
        self._release(request, queryset)

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        return [
            path("<path:object_id>/release/", self.admin_site.admin_view(self.release_view),
                 name=f"{info[0]}_{info[1]}_release"),
            *super().get_urls(),
        ]

    def release_view(self, request, object_id):
        """The Release button of a hold's page (POST only)."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not self.has_release_permission(request):
            raise PermissionDenied
        hold = self.get_object(request, unquote(object_id))
        if hold is None:
            raise Http404(f"No payout hold {object_id!r}.")
        self._release(request, [hold])
        return HttpResponseRedirect(admin_change_url(PayoutHold, hold.pk))

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:
            active = _release(obj) is None
            context["hold_active"] = active
            context["placed_by_you"] = obj.placed_by_id == request.user.pk
            context["can_release"] = (active and self.has_release_permission(request)
                                      and obj.placed_by_id != request.user.pk)
        return super().render_change_form(request, context, add=add, change=change, form_url=form_url, obj=obj)


def _release(hold):
    try:
        return hold.release
    except PayoutHoldRelease.DoesNotExist:
        return None


@admin.register(PayoutHoldRelease)
class PayoutHoldReleaseAdmin(ReadOnlyModelAdmin):
    list_display = ["hold", "released_by", "released_at", "note"]
    list_select_related = ["hold", "released_by"]
    readonly_fields = ("hold", "released_by", "released_at", "note")
    fields = readonly_fields


class PayoutScheduleForm(ServiceFormMixin, forms.ModelForm):
    restaurant_id = forms.CharField(max_length=64, help_text="The restaurant's id, e.g. res_001.")
    weekday = forms.TypedChoiceField(
        required=False, coerce=int, empty_value=None,
        choices=[("", "—"), *enumerate(["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday",
                                        "Sunday"])])
    changed_by = None  # the requesting user, set by PayoutScheduleAdmin.get_form
    address: str | None = None  # and their address, for the audit trail

    class Meta:
        model = PayoutSchedule
        fields = ["frequency", "weekday", "day_of_month", "last_day_of_month", "min_amount"]

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        try:
            self.instance = payout_schedule_set(
                restaurant_id=data["restaurant_id"], frequency=data["frequency"], weekday=data["weekday"],
                day_of_month=data["day_of_month"], last_day_of_month=data["last_day_of_month"],
                min_amount=data["min_amount"], changed_by=self.changed_by, address=self.address)
        except ApplicationError as error:
            self.errors_from(error)
        return data


@admin.register(PayoutSchedule)
class PayoutScheduleAdmin(FinanceChangelistMixin, admin.ModelAdmin):
    """Every version of every restaurant's payout schedule, newest first per restaurant: the newest is in
    force. Changing a schedule is adding a version (finance managers); none is edited or deleted."""

    list_display = ["restaurant_id", "frequency", "day_display", "min_amount", "changed_by", "changed_at"]
    list_filter = ["frequency"]
    list_select_related = ["changed_by"]
    exact_search_fields = ("restaurant_id",)
    search_help_text = "Exact restaurant id."
    form = PayoutScheduleForm
    add_fields = ["restaurant_id", "frequency", "weekday", "day_of_month", "last_day_of_month", "min_amount"]
    detail_fields = ["restaurant_id", "frequency", "day_display", "min_amount", "changed_by", "changed_at"]

    def has_add_permission(self, request):
        return request.user.has_perm(SCHEDULE_PERMISSION)

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_fields(self, request, obj=None):
        return self.add_fields if obj is None else self.detail_fields

    def get_readonly_fields(self, request, obj=None):
        return () if obj is None else self.detail_fields

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        form.changed_by = request.user
        form.address = request_address(request)
        return form

    def save_model(self, request, obj, form, change):
        """Nothing left to save: the form's service call recorded the new version."""

    def response_add(self, request, obj, post_url_continue=None):
        messages.success(request, f"Payout schedule of {obj.restaurant_id} changed: {obj.frequency}.")
        return HttpResponseRedirect(admin_change_url(PayoutSchedule, obj.pk))

    @admin.display(description="Day")
    def day_display(self, obj):
        if obj.frequency == "weekly":
            return ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"][obj.weekday]
        if obj.frequency == "monthly":
            return "Last day of the month" if obj.last_day_of_month else f"Day {obj.day_of_month}"
        return "Every day"
