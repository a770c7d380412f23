from django.conf import settings
from django.core import checks


@checks.register(checks.Tags.security)
def second_factor_required_check(app_configs, **kwargs):
    """ADMIN_REQUIRE_2FA off is for local trials: with DEBUG off, say so on every start."""
    if settings.ADMIN_REQUIRE_2FA or settings.DEBUG:
        return []
    return [
        checks.Warning(
            "ADMIN_REQUIRE_2FA is off with DEBUG off: the back office signs in with a password alone.",
            hint="Unset ADMIN_REQUIRE_2FA (it defaults to on with DEBUG off); turn it off only for local trials.",
            id="staff.W001",
        )
    ]
