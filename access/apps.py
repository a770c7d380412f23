from django.apps import AppConfig


class AccessConfig(AppConfig):
    """Who gets in: API tokens (hashed, named, expiring) and the lockout of token guessing."""

    name = "access"
    verbose_name = "Access"
