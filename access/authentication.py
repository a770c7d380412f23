"""`Authorization: Token <key>` for the API: token, user and permissions in one statement.

DRF's TokenAuthentication reads the token and user, then Django's ModelBackend reads the user's
and the groups' permissions in two more queries on the first permission check. Here one
statement does all three (access/selectors.py: USER_BY_TOKEN_SQL) and records the token's last
use. Only a refused key costs more: one or two statements saying why, and counting it toward the
address's lockout when it is no token of ours (access/services.py: token_refusal_record).
"""

from dataclasses import dataclass

from django.utils import timezone
from rest_framework.authentication import TokenAuthentication
from rest_framework.exceptions import AuthenticationFailed, Throttled

from mesa247.authentication import client_address

from .selectors import token_user_get
from .services import token_refusal_record

_REFUSAL_DETAILS = {
    "invalid": "Invalid token.",
    "expired": "Token expired.",
    "revoked": "Token revoked.",
    "inactive": "User inactive or deleted.",
}


@dataclass(frozen=True)
class ApiTokenCredentials:
    """`request.auth` of a call authenticated by an API token: which token (the audit trail names it)."""

    id: int
    name: str


class ApiTokenAuthentication(TokenAuthentication):
    """`Authorization: Token …` (header parsing and 401 challenge as DRF's), answered from one statement."""

    def authenticate(self, request):
        self._address = client_address(request)
        return super().authenticate(request)

    def authenticate_credentials(self, key):
        now = timezone.now()
        user = token_user_get(key=key, address=self._address, now=now)
        if user is None:
            refusal = token_refusal_record(key=key, address=self._address, now=now)
            if refusal.reason == "locked_out":
                raise Throttled(wait=refusal.retry_after,
                                detail="Too many failed API token attempts from this address; try again later.")
            raise AuthenticationFailed(_REFUSAL_DETAILS[refusal.reason])
        if not user.is_active:
            raise AuthenticationFailed(_REFUSAL_DETAILS["inactive"])
        user.loaded_permissions = set(user.permission_names)
        return user, ApiTokenCredentials(user.token_id, user.token_name)
