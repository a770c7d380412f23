"""The audit trail in the back office, and the User and Group pages that write to it.

The trail is read-only for everyone, superusers included (PostgreSQL refuses changes anyway). Django's
own User and Group pages are replaced by subclasses that record each change of who may do what
(active, staff, superuser, groups, permissions) with its before and after, in the admin's own
transaction: the row commits with the change or not at all.
"""

from django.contrib import admin
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.models import Group, User
from django.db import transaction

from mesa247.admin_display import ReadOnlyModelAdmin

from .edge import audit_origin
from .models import AuditAction, AuditEvent
from .services import audit_record, group_access_snapshot, user_access_snapshot

EVENT_FIELDS = ("id", "occurred_at", "actor_label", "actor", "address", "action", "object_type", "object_id",
                "before", "after", "detail")


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyModelAdmin):
    list_display = ["id", "occurred_at", "actor_label", "action", "object_type", "object_id", "address"]
    list_filter = ("action", ("actor_label", admin.AllValuesFieldListFilter),
                   ("object_type", admin.AllValuesFieldListFilter), "occurred_at")
    date_hierarchy = "occurred_at"
    exact_search_fields = ("object_id",)
    search_help_text = "Exact object id (a run id, an adjustment number, a user id…)."
    fields = readonly_fields = EVENT_FIELDS


class AccessAuditAdminMixin:
    """Records a change of what a user or group may do: its state as stored before the save, and after
    the form's many-to-many fields are saved too. A save that changes none of it records nothing."""

    audit_action: str

    def snapshot(self, obj) -> dict[str, object]:
        raise NotImplementedError

    def save_model(self, request, obj, form, change):
        # The form has already changed `obj` in memory: the state before is the stored one.
        form.audit_before = self.snapshot(type(obj)._default_manager.get(pk=obj.pk)) if change else None
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        before, after = getattr(form, "audit_before", None), self.snapshot(form.instance)
        if before != after:
            audit_record(action=self.audit_action, **audit_origin(request), obj=form.instance, before=before,
                         after=after)

    def delete_model(self, request, obj):
        before, pk = self.snapshot(obj), obj.pk
        super().delete_model(request, obj)
        audit_record(action=self.audit_action, **audit_origin(request), object_type=obj._meta.label_lower,
                     object_id=pk, before=before, after=None)

    def delete_queryset(self, request, queryset):
        with transaction.atomic():
            for obj in queryset:
                self.delete_model(request, obj)


class AuditedUserAdmin(AccessAuditAdminMixin, UserAdmin):
    audit_action = AuditAction.USER_CHANGED

    def snapshot(self, obj) -> dict[str, object]:
        return user_access_snapshot(obj)

    def user_change_password(self, request, id, form_url=""):
        """A password set by someone else lets them sign in as that user: recorded (never the password)."""
        with transaction.atomic():
            response = super().user_change_password(request, id, form_url)
            if request.method == "POST" and response.status_code == 302:
                user = User.objects.get(pk=id)
                audit_record(action=self.audit_action, **audit_origin(request), obj=user,
                             detail={"password": "set", "usable": user.has_usable_password()})
        return response


class AuditedGroupAdmin(AccessAuditAdminMixin, GroupAdmin):
    audit_action = AuditAction.GROUP_CHANGED

    def snapshot(self, obj) -> dict[str, object]:
        return group_access_snapshot(obj)


admin.site.unregister(User)
admin.site.register(User, AuditedUserAdmin)
admin.site.unregister(Group)
admin.site.register(Group, AuditedGroupAdmin)
