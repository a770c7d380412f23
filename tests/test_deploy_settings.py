"""Production settings: `check --deploy` is clean, and HTTPS is the default with DEBUG off.

Each case runs manage.py in its own process with a production-like environment
(the test suite's own settings speak plain HTTP to the test client).
"""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PROBE = (
    "from django.conf import settings as s; "
    "print(s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS, "
    "s.SECURE_HSTS_INCLUDE_SUBDOMAINS, s.SECURE_PROXY_SSL_HEADER)"
)


def manage(*args, **env) -> subprocess.CompletedProcess:
    environment = {
        key: value for key, value in os.environ.items()
        if not key.startswith(("SECURE_", "DJANGO_SETTINGS_MODULE", "ALLOWED_HOSTS", "DEBUG", "SECRET_KEY"))
    }
    environment.update({
        "DJANGO_SETTINGS_MODULE": "mesa247.settings",
        # A server URL is enough: these commands do not connect, and nothing starts the embedded server.
        "DATABASE_URL": "postgres://mesa247@127.0.0.1:1/mesa247",
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "PROCESSOR_WEBHOOK_SECRETS": "x",
        "ALLOWED_HOSTS": "example.com",
        **env,
    })
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=environment,
                          capture_output=True, text=True, timeout=120)


def settings_seen(**env) -> list[str]:
    result = manage("shell", "-c", PROBE, **env)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1].split()  # after shell's "N objects imported" line


def test_check_deploy_is_clean_with_production_settings():
    result = manage("check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_with_debug_off_cookies_are_secure_and_https_is_enforced_by_default():
    assert settings_seen() == ["True", "True", "True", "31536000", "True", "None"]


def test_behind_a_tls_proxy_its_header_says_the_request_was_https():
    seen = settings_seen(SECURE_PROXY_SSL_HEADER="X-Forwarded-Proto: https")
    assert seen[-2:] == ["('HTTP_X_FORWARDED_PROTO',", "'https')"]


def test_a_plain_http_trial_can_turn_each_off():
    seen = settings_seen(SECURE_COOKIES="false", SECURE_SSL_REDIRECT="false", SECURE_HSTS_SECONDS="0")
    assert seen[:4] == ["False", "False", "False", "0"]


def test_local_debug_runs_stay_on_plain_http():
    assert settings_seen(DEBUG="true")[:4] == ["False", "False", "False", "0"]


@pytest.mark.parametrize("value", ["X-Forwarded-Proto", "https", ": https"])
def test_a_malformed_proxy_header_setting_refuses_to_start(value):
    result = manage("check", SECURE_PROXY_SSL_HEADER=value)
    assert result.returncode != 0
    assert "SECURE_PROXY_SSL_HEADER must look like 'X-Forwarded-Proto: https'" in result.stderr
