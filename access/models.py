"""Tables of who gets in. Keys are never stored, only their SHA-256 (access/keys.py)."""

from django.conf import settings
from django.db import models
from django.db.models import Q


class ApiToken(models.Model):
    """An API token: one client's key, named per user, expiring, revocable. Only its hash is kept."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, help_text="What the token is for (a client, a service).")
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    prefix = models.CharField(max_length=12, editable=False,
                              help_text="The key's first characters, to recognise it; not a secret.")
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True,
                                        help_text="Recorded at most once every few minutes.")
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "API token"
        ordering = ["-created_at", "-id"]
        constraints = [
            # A name is unique among a user's live tokens: revoking "ci" lets a new "ci" replace it.
            models.UniqueConstraint(fields=["user", "name"], condition=Q(revoked_at__isnull=True),
                                    name="access_apitoken_live_name_unique_per_user"),
            models.CheckConstraint(condition=Q(expires_at__gt=models.F("created_at")),
                                   name="access_apitoken_expires_after_creation"),
            models.CheckConstraint(condition=~Q(name=""), name="access_apitoken_name_not_blank"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"


class TokenFailureCounter(models.Model):
    """Failed token attempts from one address in the current window, and the lockout they earned.

    One row per address that failed lately; a failure deletes other addresses' stale rows, so the
    table holds only the addresses of the last window (access/services.py: token_failure_record).
    """

    address = models.CharField(max_length=45, primary_key=True)
    failures = models.PositiveIntegerField()
    window_started_at = models.DateTimeField(db_index=True)
    locked_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "token failure counter"

    def __str__(self) -> str:
        return f"{self.address}: {self.failures} failures"
