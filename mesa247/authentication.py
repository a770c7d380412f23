"""API authentication: a DRF token, with its user and the user's permissions read in one query.

DRF's TokenAuthentication reads the token and user, then Django's ModelBackend
reads the user's and the groups' permissions in two more queries on the first
permission check. Here one query does all three, on every request: a revoked
token, a deactivated user or a withdrawn permission takes effect at once,
since nothing is kept between requests.
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
