from rest_framework.permissions import BasePermission


def require_perms(*perms: str) -> type[BasePermission]:
    """A DRF permission class: authenticated (else 401) and holding every perm (else 403)."""

    class HasModelPermissions(BasePermission):
        message = f"This needs the permission(s): {', '.join(perms)}."

        def has_permission(self, request, view) -> bool:
            user = request.user
            if not (user and user.is_authenticated):
                return False
            return user.has_perms(perms)

    HasModelPermissions.__name__ = "Has_" + "_".join(p.replace(".", "_") for p in perms)
    return HasModelPermissions
