"""API authentication helpers that know no app: the token header, and permissions preloaded with the user.

The tokens themselves, their statements and the DRF authentication class live in the `access` app
(access/authentication.py, access/selectors.py).
"""

from django.contrib.auth.backends import ModelBackend


def token_key(request) -> str | None:
    """The key of an `Authorization: Token <key>` header, as DRF's TokenAuthentication reads it; else None."""
    try:
        parts = request.META.get("HTTP_AUTHORIZATION", "").encode("iso-8859-1").split()
        if len(parts) != 2 or parts[0].lower() != b"token":
            return None
        return parts[1].decode()
    except UnicodeError:
        return None


def client_address(request) -> str:
    """The address a token attempt is counted against: the WSGI server's peer. A proxy in front must
    hand the client's address on as REMOTE_ADDR (docs/security.md)."""
    return request.META.get("REMOTE_ADDR") or "unknown"


class PreloadedPermissionsBackend(ModelBackend):
    """Django's ModelBackend, answering from permissions loaded with the user when there are some."""

    def get_all_permissions(self, user_obj, obj=None):
        loaded = getattr(user_obj, "loaded_permissions", None)
        if loaded is None or obj is not None or not user_obj.is_active:
            return super().get_all_permissions(user_obj, obj)
        return loaded
