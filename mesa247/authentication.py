"""API authentication: a DRF token, with its user's permissions read in the same query.

DRF's TokenAuthentication reads the token and user, then Django's ModelBackend
reads the user's and the groups' permissions in two more queries on the first
permission check. Here one query does all three, on every request: a revoked
token, a deactivated user or a withdrawn permission takes effect at once,
since nothing is kept between requests.
"""

from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Permission
from django.contrib.postgres.expressions import ArraySubquery
from django.db.models import F, OuterRef, Q, Value
from django.db.models.functions import Concat
from rest_framework.authentication import TokenAuthentication
from rest_framework.authtoken.models import Token
from rest_framework.exceptions import AuthenticationFailed


def _permission_names():
    """The user's permissions, direct or through a group, as "app_label.codename" (ModelBackend's form)."""
    user = OuterRef(OuterRef("user_id"))  # the token's user, two queries out
    direct = Permission.user_set.through.objects.filter(user_id=user).values("permission_id")
    through_groups = Permission.group_set.through.objects.filter(group__user=user).values("permission_id")
    return ArraySubquery(
        Permission.objects.filter(Q(pk__in=direct) | Q(pk__in=through_groups))
        .annotate(full_name=Concat(F("content_type__app_label"), Value("."), F("codename")))
        .values("full_name")
        .distinct()
    )


class TokenWithPermissionsAuthentication(TokenAuthentication):
    """`Authorization: Token …`, answered from one query: token, user and permissions."""

    def authenticate_credentials(self, key):
        token = (
            Token.objects.select_related("user").annotate(permission_names=_permission_names()).filter(key=key).first()
        )
        if token is None:
            raise AuthenticationFailed("Invalid token.")
        if not token.user.is_active:
            raise AuthenticationFailed("User inactive or deleted.")
        token.user.loaded_permissions = set(token.permission_names)
        return token.user, token


class PreloadedPermissionsBackend(ModelBackend):
    """Django's ModelBackend, answering from permissions loaded with the user when there are some."""

    def get_all_permissions(self, user_obj, obj=None):
        loaded = getattr(user_obj, "loaded_permissions", None)
        if loaded is None or obj is not None or not user_obj.is_active:
            return super().get_all_permissions(user_obj, obj)
        return loaded
