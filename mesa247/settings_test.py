"""Settings for the test suite: PostgreSQL, fixed secrets, fast hashing."""

import os

os.environ.setdefault("SECRET_KEY", "test-only-secret-key-not-for-production")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/mesa247")
os.environ.setdefault("PROCESSOR_WEBHOOK_SECRETS", "whsec_test_current,whsec_test_previous")
os.environ.setdefault("LOG_LEVEL", "WARNING")

from .settings import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
