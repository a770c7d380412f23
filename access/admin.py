"""API tokens in the back office: listed without their hashes, created (the key shown once) and revoked.

Creating and revoking call the services (access/services.py), as the commands do. A token is never
edited or deleted here: revoking keeps the record of who held what.
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.models import User
from django.http import HttpResponseRedirect
from django.urls import reverse

from audit.edge import audit_origin
from mesa247.domain_errors import ApplicationError

from .models import ApiToken
from .selectors import live_token_named
from .services import DEFAULT_TOKEN_NAME, api_token_create, api_token_revoke_one

REVOKE_PERMISSION = "access.change_apitoken"


class ApiTokenCreateForm(forms.ModelForm):
    expires_in_days = forms.IntegerField(min_value=1, required=False,
                                         help_text="Default: API_TOKEN_TTL_DAYS (90 unless configured).")

    class Meta:
        model = ApiToken
        fields = ["user", "name", "expires_in_days"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = User.objects.order_by("username")
        self.fields["name"].initial = DEFAULT_TOKEN_NAME

    def clean(self):
        data = super().clean()
        if data.get("user") and data.get("name") and live_token_named(user=data["user"], name=data["name"]):
            self.add_error("name", "This user already has a live token with this name: revoke it first.")
        return data

    def _post_clean(self):
        # The key, its hash and the times are the service's to set; its checks and PostgreSQL's run there.
        pass


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["prefix_display", "name", "user", "created_at", "expires_at", "last_used_at", "revoked_at"]
    list_filter = [("revoked_at", admin.EmptyFieldListFilter), "expires_at"]
    list_select_related = ["user"]
    search_fields = ["user__username__exact", "name__exact", "prefix__startswith"]
    search_help_text = "Exact username or token name, or the key's first characters."
    readonly_fields = ["prefix_display", "name", "user", "created_at", "expires_at", "last_used_at", "revoked_at"]
    actions = ["revoke_selected"]

    def get_fields(self, request, obj=None):
        return ApiTokenCreateForm.Meta.fields if obj is None else self.readonly_fields

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else self.readonly_fields

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            return ApiTokenCreateForm
        return super().get_form(request, obj, change=change, **kwargs)

    def has_delete_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False  # the change page is read-only; revoking is the action below

    def has_revoke_permission(self, request):
        return request.user.has_perm(REVOKE_PERMISSION)

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        try:
            created = api_token_create(user=data["user"], name=data["name"], expires_in_days=data["expires_in_days"],
                                       **audit_origin(request))
        except ApplicationError as error:  # e.g. the name was taken since the form was checked
            obj.refusal = error
            return
        obj.refusal = None
        obj.pk = created.token.pk
        obj.user, obj.name, obj.prefix = created.token.user, created.token.name, created.token.prefix
        messages.warning(request, f"API token {created.token.name!r} for {created.token.user.username}: "
                                  f"{created.key} — copy it now, it will not be shown again.")

    def save_related(self, request, form, formsets, change):
        pass

    def response_add(self, request, obj, post_url_continue=None):
        if obj.refusal is not None:
            messages.error(request, f"No token created: {obj.refusal.detail}")
            return HttpResponseRedirect(reverse("admin:access_apitoken_add"))
        return HttpResponseRedirect(reverse("admin:access_apitoken_changelist"))

    @admin.display(description="Key", ordering="prefix")
    def prefix_display(self, obj):
        return f"{obj.prefix}…"

    @admin.action(description="Revoke selected API tokens", permissions=["revoke"])
    def revoke_selected(self, request, queryset):
        revoked = 0
        for token in queryset.filter(revoked_at__isnull=True):
            api_token_revoke_one(token=token, **audit_origin(request))
            revoked += 1
        messages.success(request, f"{revoked} API token(s) revoked; they are refused from the next request on.")
