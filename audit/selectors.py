from datetime import datetime

from django.db.models import QuerySet

from .models import AuditEvent


def audit_event_list(*, actor: str | None = None, action: str | None = None, object_type: str | None = None,
                     object_id: str | None = None, occurred_after: datetime | None = None,
                     occurred_before: datetime | None = None) -> QuerySet[AuditEvent]:
    """Audit events, newest first; `actor` is the label recorded (a username, "token:…", "system:…");
    `occurred_after` is inclusive, `occurred_before` exclusive."""
    events = AuditEvent.objects.order_by("-id")
    if actor is not None:
        events = events.filter(actor_label=actor)
    if action is not None:
        events = events.filter(action=action)
    if object_type is not None:
        events = events.filter(object_type=object_type)
    if object_id is not None:
        events = events.filter(object_id=object_id)
    if occurred_after is not None:
        events = events.filter(occurred_at__gte=occurred_after)
    if occurred_before is not None:
        events = events.filter(occurred_at__lt=occurred_before)
    return events
