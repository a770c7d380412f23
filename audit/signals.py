"""Sign-ins into the audit trail: Django's user_logged_in and user_login_failed signals, received at the
edge (the request is at hand), and axes' user_locked_out, handed to `audit_record`. No business logic lives here."""

from axes.signals import user_locked_out
from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_login_failed

from .edge import request_address
from .models import AuditAction
from .services import audit_record

ANONYMOUS = "anonymous"


def sign_in_succeeded(sender, request, user, **kwargs) -> None:
    audit_record(action=AuditAction.SIGN_IN_SUCCEEDED, actor=user, address=request_address(request), obj=user)


def sign_in_failed(sender, credentials, request=None, **kwargs) -> None:
    """Who tried is unknown: the row names the account tried (Django has already masked the password)."""
    user_model = get_user_model()
    username = credentials.get(user_model.USERNAME_FIELD) or credentials.get("username") or ""
    username = str(username)[:150]
    known = user_model._default_manager.filter(**{user_model.USERNAME_FIELD: username}).first() if username else None
    audit_record(
        action=AuditAction.SIGN_IN_FAILED, actor_label=ANONYMOUS, address=request_address(request),
        object_type=user_model._meta.label_lower, object_id=known.pk if known else "",
        detail={"username": username},
    )


def sign_in_locked(sender, request, username, ip_address, **kwargs) -> None:
    """The lockout began: the account tried and the address are named, as for a failed sign-in."""
    user_model = get_user_model()
    username = str(username or "")[:150]
    known = user_model._default_manager.filter(**{user_model.USERNAME_FIELD: username}).first() if username else None
    audit_record(
        action=AuditAction.SIGN_IN_LOCKED, actor_label=ANONYMOUS, address=request_address(request) or ip_address,
        object_type=user_model._meta.label_lower, object_id=known.pk if known else "",
        detail={"username": username},
    )


def sign_in_receivers_connect() -> None:
    user_logged_in.connect(sign_in_succeeded, dispatch_uid="audit_sign_in_succeeded")
    user_login_failed.connect(sign_in_failed, dispatch_uid="audit_sign_in_failed")
    user_locked_out.connect(sign_in_locked, dispatch_uid="audit_sign_in_locked")
