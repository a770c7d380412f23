from django.apps import AppConfig


class StaffConfig(AppConfig):
    """Finance staff's sign-in to the back office: second factor, lockout hooks, system check."""

    name = "staff"
    verbose_name = "Staff sign-in"

    def ready(self) -> None:
        from staff import checks, signin  # noqa: F401  (registers the check and the sign-in receivers)
