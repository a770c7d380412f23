"""API authentication: a DRF token, with its user and the user's permissions read in one query.

DRF's TokenAuthentication reads the token and user, then Django's ModelBackend
reads the user's and the groups' permissions in two more queries on the first
permission check. Here one query does all three, on every request: a revoked
token, a deactivated user or a withdrawn permission takes effect at once,
since nothing is kept between requests.

`as_token_holder` goes one step further for the hottest reads: it puts the token, its user's
standing and the one permission a read needs into the read's own statement, so an allowed read
is one round trip. Anything else (no such token, an inactive user, a missing permission, no
row) comes back as nothing, and the caller lets the full API view answer it.
"""

from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import User
from rest_framework.authentication import TokenAuthentication
from rest_framework.authtoken.models import Token
from rest_framework.exceptions import AuthenticationFailed

# The token's user with every permission it holds, directly or through a group, named
# "app_label.codename" as ModelBackend names them.
USER_BY_TOKEN_SQL = """
SELECT account.*,
       ARRAY(SELECT content_type.app_label || '.' || permission.codename
               FROM auth_permission AS permission
               JOIN django_content_type AS content_type ON content_type.id = permission.content_type_id
              WHERE permission.id IN (SELECT permission_id FROM auth_user_user_permissions
                                       WHERE user_id = account.id
                                      UNION
                                     SELECT granted.permission_id
                                       FROM auth_user_groups AS membership
                                       JOIN auth_group_permissions AS granted ON granted.group_id = membership.group_id
                                      WHERE membership.user_id = account.id)) AS permission_names
  FROM authtoken_token AS token
  JOIN auth_user AS account ON account.id = token.user_id
 WHERE token.key = %s
"""


# The user behind the token, when active and holding %(permission)s ("app_label.codename") directly,
# through a group, or as a superuser: ModelBackend.has_perm's rule.
TOKEN_HOLDER_SQL = """
SELECT account.id
  FROM authtoken_token AS token
  JOIN auth_user AS account ON account.id = token.user_id
 WHERE token.key = %(token_key)s
   AND account.is_active
   AND (account.is_superuser OR EXISTS (
        SELECT 1
          FROM auth_permission AS permission
          JOIN django_content_type AS content_type ON content_type.id = permission.content_type_id
         WHERE content_type.app_label = split_part(%(permission)s, '.', 1)
           AND permission.codename = split_part(%(permission)s, '.', 2)
           AND (permission.id IN (SELECT permission_id FROM auth_user_user_permissions WHERE user_id = account.id)
                OR permission.id IN (SELECT granted.permission_id
                                       FROM auth_user_groups AS membership
                                       JOIN auth_group_permissions AS granted
                                         ON granted.group_id = membership.group_id
                                      WHERE membership.user_id = account.id))))
"""


def as_token_holder(read_sql: str) -> str:
    """`read_sql` (named parameters, at most one row) run for the holder of %(token_key)s with
    %(permission)s only: the read's row, or no row when the token, the user's standing or the
    permission does not allow it (or the read finds nothing)."""
    return f"SELECT read.* FROM ({TOKEN_HOLDER_SQL}) AS caller CROSS JOIN LATERAL ({read_sql}) AS read"


def token_key(request) -> str | None:
    """The key of an `Authorization: Token <key>` header, as DRF's TokenAuthentication reads it; else None."""
    try:
        parts = request.META.get("HTTP_AUTHORIZATION", "").encode("iso-8859-1").split()
        if len(parts) != 2 or parts[0].lower() != b"token":
            return None
        return parts[1].decode()
    except UnicodeError:
        return None


class TokenWithPermissionsAuthentication(TokenAuthentication):
    """`Authorization: Token …`, answered from one query: token, user and permissions."""

    def authenticate_credentials(self, key):
        user = next(iter(User.objects.raw(USER_BY_TOKEN_SQL, [key])), None)
        if user is None:
            raise AuthenticationFailed("Invalid token.")
        if not user.is_active:
            raise AuthenticationFailed("User inactive or deleted.")
        user.loaded_permissions = set(user.permission_names)
        return user, Token(key=key, user=user)


class PreloadedPermissionsBackend(ModelBackend):
    """Django's ModelBackend, answering from permissions loaded with the user when there are some."""

    def get_all_permissions(self, user_obj, obj=None):
        loaded = getattr(user_obj, "loaded_permissions", None)
        if loaded is None or obj is not None or not user_obj.is_active:
            return super().get_all_permissions(user_obj, obj)
        return loaded
