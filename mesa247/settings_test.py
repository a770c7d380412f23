"""Settings for the test suite: fixed secrets, fast hashing.

Everything the tests' expectations depend on is set outright, so a variable
exported in the developer's shell (a demo secret, another time zone) cannot
change what the suite checks. Only the database location is taken from the
environment: DATABASE_URL, or else the checkout's embedded PostgreSQL (started here).
"""

import os

os.environ.update(
    {
        "DEBUG": "false",
        "SECRET_KEY": "test-only-secret-key-not-for-production",
        "PROCESSOR_WEBHOOK_SECRETS": "whsec_test_current,whsec_test_previous",
        "MATURITY_WINDOW_DAYS": "7",
        "DEFAULT_CURRENCY": "PEN",
        "SUPPORTED_CURRENCIES": "PEN,USD,MXN",
        "TIME_ZONE": "America/Lima",
        "ALLOWED_HOSTS": os.environ.get("TEST_ALLOWED_HOSTS", ""),
        # Drills with real workers pick a broker and short timeouts through TEST_* variables.
        "REDIS_URL": os.environ.get("TEST_REDIS_URL", ""),
        "Q_TIMEOUT": os.environ.get("TEST_Q_TIMEOUT", "600"),
        "Q_RETRY": os.environ.get("TEST_Q_RETRY", "1200"),
        "LOG_LEVEL": os.environ.get("TEST_LOG_LEVEL", "WARNING"),
        # The test client speaks plain HTTP: no redirect to HTTPS, cookies sent over HTTP.
        # (Production's defaults are checked by tests/test_deploy_settings.py in a subprocess.)
        "SECURE_SSL_REDIRECT": "false",
        "SECURE_COOKIES": "false",
        "SECURE_HSTS_SECONDS": "",
        "SECURE_PROXY_SSL_HEADER": "",
        # The metrics drill under gunicorn passes a token to its server through TEST_METRICS_TOKEN.
        "METRICS_TOKEN": os.environ.get("TEST_METRICS_TOKEN", ""),
        "SENTRY_DSN": "",
        "PAYOUT_SCHEDULE_TIME": "06:00",
        "PAYOUT_SCHEDULE_MIN_AMOUNT": "5000",
        "LEDGER_CHECK_SCHEDULE_TIME": "02:00",
        # The back office's sign-in as deployed: second factor on (DEBUG is off), default limits.
        "ADMIN_REQUIRE_2FA": "",
        "ADMIN_SESSION_IDLE_MINUTES": "15",
        "ADMIN_LOCKOUT_FAILURES": "5",
        "ADMIN_LOCKOUT_MINUTES": "15",
        "TRUSTED_PROXY_COUNT": "0",
    }
)

# The suite always connects: this module is its entry point (pytest-django loads it before any
# conftest), so it starts the embedded PostgreSQL when DATABASE_URL is unset. mesa247.settings never does.
from mesa247 import embedded_postgres  # noqa: E402

embedded_postgres.start_unless_configured()

from .settings import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# Most tests run inside one database transaction that other connections cannot see, so a run
# creates its payouts one at a time there; tests that commit set more (test_payout_runs).
PAYOUT_RUN_CONCURRENCY = 1

# The test runner's `flush`, which empties the money tables their TRUNCATE trigger guards.
INSTALLED_APPS = [*INSTALLED_APPS, "tests.testrunner"]  # noqa: F405
