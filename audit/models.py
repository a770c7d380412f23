"""The audit trail: one append-only row per action that moves money or changes who may do what.

PostgreSQL refuses UPDATE, DELETE and TRUNCATE of these rows (audit/sql/append_only.sql). The app
imports no other app of the project: every app writes its rows through `audit_record`.
"""

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models.functions import Now


class AuditAction(models.TextChoices):
    """The closed list of audited actions; a new one is a new choice (and a migration)."""

    PAYOUT_RUN_REQUESTED = "payout_run_requested", "Payout run requested"
    PAYOUT_RUN_RETRIED = "payout_run_retried", "Payout run retried"
    ADJUSTMENT_PROPOSED = "adjustment_proposed", "Adjustment proposed"
    ADJUSTMENT_DECIDED = "adjustment_decided", "Adjustment decided"
    HOLD_PLACED = "hold_placed", "Payout hold placed"
    HOLD_RELEASED = "hold_released", "Payout hold released"
    SCHEDULE_CHANGED = "schedule_changed", "Schedule changed"
    RECONCILIATION_REPORT_UPLOADED = "reconciliation_report_uploaded", "Reconciliation report uploaded"
    RECONCILIATION_EXCEPTION_RESOLVED = "reconciliation_exception_resolved", "Reconciliation exception resolved"
    TOKEN_CREATED = "token_created", "API token created"
    TOKEN_REVOKED = "token_revoked", "API token revoked"
    USER_CHANGED = "user_changed", "User access changed"
    GROUP_CHANGED = "group_changed", "Group access changed"
    SIGN_IN_SUCCEEDED = "sign_in_succeeded", "Sign-in succeeded"
    SIGN_IN_FAILED = "sign_in_failed", "Sign-in failed"
    SIGN_IN_LOCKED = "sign_in_locked", "Sign-in locked out"


class AuditEvent(models.Model):
    # The database's clock, at the start of the writing transaction: every row of one action shares it.
    occurred_at = models.DateTimeField(db_default=Now(), editable=False)
    # PROTECT: a user with a history is deactivated, never deleted (the rows could not be changed to let go).
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                              related_name="+")
    # Who, as shown then: a username, "token:<name>" or "system:<command>"; kept whatever becomes of the user.
    actor_label = models.CharField(max_length=150)
    address = models.GenericIPAddressField(null=True, blank=True)
    action = models.CharField(max_length=64, choices=AuditAction.choices)
    object_type = models.CharField(max_length=100, blank=True, default="")
    object_id = models.CharField(max_length=255, blank=True, default="")
    # Dates, times and UUIDs are stored as ISO text and strings.
    before = models.JSONField(null=True, blank=True, encoder=DjangoJSONEncoder)
    after = models.JSONField(null=True, blank=True, encoder=DjangoJSONEncoder)
    detail = models.JSONField(default=dict, blank=True, encoder=DjangoJSONEncoder)

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["occurred_at"], name="audit_occurred_at"),
            models.Index(fields=["action", "-id"], name="audit_action"),
            models.Index(fields=["actor_label", "-id"], name="audit_actor_label"),
            models.Index(fields=["object_type", "object_id", "-id"], name="audit_object"),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(action__in=AuditAction.values), name="audit_action_known"),
            models.CheckConstraint(condition=~models.Q(actor_label=""), name="audit_actor_label_present"),
        ]

    def __str__(self) -> str:
        return f"{self.get_action_display()} by {self.actor_label}"
