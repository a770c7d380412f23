"""Writing the audit trail: one row per action, in the caller's transaction.

`audit_record` does not open a transaction of its own: called inside the action's transaction, the row
commits or rolls back with the action, so the trail never claims what did not happen nor misses what
did. Called outside one (a failed sign-in), the row commits at once.
"""

import ipaddress

from django.db import models

from .models import AuditAction, AuditEvent

SYSTEM = "system"


def actor_label_of(actor) -> str:
    """How an actor is written down: its username (kept even if the user is renamed later)."""
    return actor.get_username()


def audit_record(
    *,
    action: str,
    actor=None,
    actor_label: str | None = None,
    address: str | None = None,
    obj: models.Model | None = None,
    object_type: str = "",
    object_id: str | int = "",
    before: dict | None = None,
    after: dict | None = None,
    detail: dict | None = None,
) -> AuditEvent:
    """Record that `actor` (a user, or None for the system: then `actor_label` says which part, e.g.
    "system:run_payouts") did `action` to `obj` (or to `object_type`/`object_id`), from `address`.

    `before`/`after` are the object's state around the change where it applies; `detail` anything
    else worth keeping. A wrong action or address is a programming error (ValueError), not user input.
    """
    if action not in AuditAction.values:
        raise ValueError(f"Unknown audit action {action!r}; add it to AuditAction first.")
    if actor is not None and not actor.is_authenticated:
        actor = None  # an anonymous user is no actor; the label says who tried
    label = actor_label or (actor_label_of(actor) if actor is not None else SYSTEM)
    if address is not None:
        address = str(ipaddress.ip_address(address))
    if obj is not None:
        object_type, object_id = obj._meta.label_lower, obj.pk
    return AuditEvent.objects.create(
        action=action,
        actor=actor,
        actor_label=label[:150],
        address=address,
        object_type=object_type,
        object_id=str(object_id),
        before=before,
        after=after,
        detail=detail or {},
    )


def user_access_snapshot(user) -> dict[str, object]:
    """What a user may do, as the audit trail compares it before and after a change."""
    return {
        "username": user.get_username(),
        "is_active": user.is_active,
        "is_staff": user.is_staff,
        "is_superuser": user.is_superuser,
        "groups": sorted(user.groups.values_list("name", flat=True)),
        "user_permissions": _permission_names(user.user_permissions),
    }


def group_access_snapshot(group) -> dict[str, object]:
    """What a group grants, as the audit trail compares it before and after a change."""
    return {"name": group.name, "permissions": _permission_names(group.permissions)}


def _permission_names(permissions) -> list[str]:
    return sorted(f"{app_label}.{codename}" for app_label, codename in
                  permissions.values_list("content_type__app_label", "codename"))
