"""django-q2's schedules page (the daily payout runs, the nightly ledger check and the other periodic tasks),
where finance managers pause and resume them; every change is in the audit trail."""

from django.contrib import admin, messages
from django.db import transaction
from django_q.admin import ScheduleAdmin as QScheduleAdmin
from django_q.models import Schedule

from audit.edge import request_address

from .schedules import schedule_change_record, schedule_state, schedules_pause, schedules_resume


class ScheduleAdmin(QScheduleAdmin):
    """django-q2's schedules, where finance managers pause and resume them.

    Staff with `django_q.change_schedule` (the "Finance manager" group) may
    change only *Repeats* (0 = paused, -1 = for ever) and *Next run*, or use
    the pause/resume actions; what a schedule runs (function, arguments,
    cluster) and adding or deleting schedules are for superusers, since a
    schedule's function is code that the worker executes.
    """

    EDITABLE_BY_STAFF = ("repeats", "next_run")
    list_display = ("name", "state", "func", "args", "schedule_type", "next_run", "get_last_run", "get_success")
    list_display_links = ("name",)
    actions = ["pause", "resume"]

    @admin.display(description="state")
    def state(self, obj):
        return "paused" if obj.repeats == 0 else "active"

    def get_readonly_fields(self, request, obj=None):
        if request.user.is_superuser:
            return super().get_readonly_fields(request, obj)
        return [field.name for field in Schedule._meta.fields if field.name not in self.EDITABLE_BY_STAFF]

    def has_add_permission(self, request):
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser

    def save_model(self, request, obj, form, change):
        # The form has already changed `obj` in memory: the state before is the stored one.
        before = schedule_state(Schedule.objects.get(pk=obj.pk)) if change else None
        super().save_model(request, obj, form, change)
        schedule_change_record(schedule=obj, before=before, actor=request.user, address=request_address(request),
                               via="admin")

    def delete_model(self, request, obj):
        schedule_change_record(schedule=obj, before=schedule_state(obj), deleted=True, actor=request.user,
                               address=request_address(request), via="admin")
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        with transaction.atomic():
            for schedule in queryset:
                self.delete_model(request, schedule)

    @admin.action(description="Pause the selected schedules", permissions=["change"])
    def pause(self, request, queryset):
        count = schedules_pause(schedules=queryset, actor=request.user, address=request_address(request))
        self.message_user(request, f"{count} schedule(s) paused.", messages.SUCCESS)

    @admin.action(description="Resume the selected schedules", permissions=["change"])
    def resume(self, request, queryset):
        count = schedules_resume(schedules=queryset, actor=request.user, address=request_address(request))
        self.message_user(request, f"{count} schedule(s) resumed; daily ones run at their next time.",
                          messages.SUCCESS)


admin.site.unregister(Schedule)
admin.site.register(Schedule, ScheduleAdmin)
