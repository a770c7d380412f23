"""Settings for the test suite: PostgreSQL, fixed secrets, fast hashing.

Everything the tests' expectations depend on is set outright, so a variable
exported in the developer's shell (a demo secret, another time zone) cannot
change what the suite checks. Only the database location is taken from the
environment.
"""

import os

os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/mesa247")
os.environ.update(
    {
        "DEBUG": "false",
        "SECRET_KEY": "test-only-secret-key-not-for-production",
        "PROCESSOR_WEBHOOK_SECRETS": "whsec_test_current,whsec_test_previous",
        "MATURITY_WINDOW_DAYS": "7",
        "DEFAULT_CURRENCY": "PEN",
        "SUPPORTED_CURRENCIES": "PEN,USD,MXN",
        "TIME_ZONE": "America/Lima",
        "ALLOWED_HOSTS": "",
        "REDIS_URL": "",
        "LOG_LEVEL": os.environ.get("TEST_LOG_LEVEL", "WARNING"),
    }
)

from .settings import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
