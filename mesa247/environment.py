"""The one reader of the service's configuration from the environment: typed values, plain errors.

`mesa247/settings.py` reads every variable through an `Environment`. An unset
or blank variable takes its default; a value that cannot mean anything
(`DEBUG=treu`, `Q_WORKERS=two`) refuses to start with ImproperlyConfigured
naming the variable, instead of quietly becoming a default. The names read
are kept (`names_read`) so a test can check each one is documented.
"""

import os
from collections.abc import Mapping

from django.core.exceptions import ImproperlyConfigured

TRUE_WORDS = frozenset({"1", "true", "yes", "on"})
FALSE_WORDS = frozenset({"0", "false", "no", "off"})


class Environment:
    def __init__(self, variables: Mapping[str, str] | None = None) -> None:
        self.variables = os.environ if variables is None else variables
        self.names_read: list[str] = []

    def text(self, name: str, default: str = "") -> str:
        """The value without surrounding blanks; `default` when unset or blank."""
        self.names_read.append(name)
        return self.variables.get(name, "").strip() or default

    def is_set(self, name: str) -> bool:
        return bool(self.text(name))

    def flag(self, name: str, default: bool) -> bool:
        """true/1/yes/on or false/0/no/off, in any case."""
        raw = self.text(name)
        if not raw:
            return default
        if raw.lower() in TRUE_WORDS:
            return True
        if raw.lower() in FALSE_WORDS:
            return False
        raise ImproperlyConfigured(f"{name} must be true or false (1/0, yes/no, on/off), got {raw!r}")

    def integer(self, name: str, default: int, *, minimum: int | None = None) -> int:
        raw = self.text(name)
        if not raw:
            return default
        try:
            value = int(raw)
        except ValueError as exc:
            raise ImproperlyConfigured(f"{name} must be an integer, got {raw!r}") from exc
        if minimum is not None and value < minimum:
            raise ImproperlyConfigured(f"{name} must be at least {minimum}, got {value}.")
        return value

    def items(self, name: str, default: str = "") -> list[str]:
        """A comma-separated list, without blanks or empty items."""
        return [item.strip() for item in self.text(name, default).split(",") if item.strip()]

    def local_time(self, name: str, default: str) -> str:
        """A local time of day, HH:MM on the 24-hour clock, normalised to two-digit hours."""
        raw = self.text(name, default)
        hours, sep, minutes = raw.partition(":")
        if not (sep and hours.isdigit() and minutes.isdigit() and int(hours) < 24 and int(minutes) < 60
                and len(minutes) == 2):
            raise ImproperlyConfigured(f"{name} must be a local time HH:MM (24-hour), got {raw!r}")
        return f"{int(hours):02d}:{minutes}"

    def proxy_ssl_header(self, name: str) -> tuple[str, str] | None:
        """`X-Forwarded-Proto: https` → ("HTTP_X_FORWARDED_PROTO", "https"), as SECURE_PROXY_SSL_HEADER wants it."""
        raw = self.text(name)
        if not raw:
            return None
        header, sep, value = raw.partition(":")
        if not sep or not header.strip() or not value.strip():
            raise ImproperlyConfigured(f"{name} must look like 'X-Forwarded-Proto: https', got {raw!r}")
        return "HTTP_" + header.strip().upper().replace("-", "_"), value.strip()
