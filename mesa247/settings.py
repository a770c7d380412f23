"""Settings for the Mesa 24/7 payments back office.

Every value that differs between machines is read from the environment here,
in one place, through `mesa247.environment` (typed values; a malformed value
refuses to start), and documented in `.env.example` and docs/configuration.md.

Importing the settings has no side effect: it starts no server and writes no
file. The entry points that connect (manage.py's database commands, wsgi.py,
asgi.py, the test settings) start the embedded PostgreSQL first when
DATABASE_URL is unset.
"""

import warnings
from datetime import timedelta
from pathlib import Path
from typing import Any

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from mesa247 import embedded_postgres
from mesa247.environment import Environment
from mesa247.observability import logging_config
from mesa247.openapi_settings import OPENAPI_SETTINGS

BASE_DIR = Path(__file__).resolve().parent.parent
env = Environment()

# With neither DEBUG nor DATABASE_URL set, this is a zero-setup local run on the
# checkout's embedded PostgreSQL: DEBUG on, answering localhost only. Any
# deployment names its database, and then DEBUG is off unless it is asked for.
LOCAL_DEVELOPMENT_DEFAULTS = not env.is_set("DATABASE_URL") and not env.is_set("DEBUG")
DEBUG = env.flag("DEBUG", LOCAL_DEVELOPMENT_DEFAULTS)

SECRET_KEY = env.text("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    SECRET_KEY = "insecure-local-development-key-only-for-debug"

ALLOWED_HOSTS = env.items("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]" if DEBUG else "")

INSTALLED_APPS = [
    "mesa247.apps.FinanceAdminConfig",  # django.contrib.admin with the finance dashboard
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_filters",
    "django_q",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "axes",
    "staff",
    "processor",
    "ledger",
    "payouts",
    "access",
    "audit",
    "reconciliation",
]

MIDDLEWARE = [
    # First, so that it times everything below it (the views and every other middleware).
    "mesa247.metrics.RequestLatencyMiddleware",
    "mesa247.observability.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # The Content-Security-Policy of every page but the /v1/ API's JSON (docs/security.md#headers).
    "mesa247.browser_middleware.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Django's session, user and messages middleware, skipped for /v1/ calls without a session cookie.
    "mesa247.browser_middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "mesa247.browser_middleware.AuthenticationMiddleware",
    # Staff sessions end after ADMIN_SESSION_IDLE_MINUTES idle and ADMIN_SESSION_MAX_HOURS after sign-in.
    "mesa247.browser_middleware.StaffSessionLifetimeMiddleware",
    # request.user.is_verified(): did this session pass the second factor (django-otp)?
    "mesa247.browser_middleware.OTPMiddleware",
    "mesa247.browser_middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: turns a locked-out sign-in into its 429 page.
    "mesa247.browser_middleware.AxesMiddleware",
]

ROOT_URLCONF = "mesa247.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

WSGI_APPLICATION = "mesa247.wsgi.application"

# --- Database -------------------------------------------------------------
# PostgreSQL only. A deployment names its server with DATABASE_URL; without it,
# every process of the checkout shares its embedded server (.data/postgres/):
# the settings only point at its socket, and the entry points that connect start it.
# Connections persist between requests (a new one costs more than most requests), and are
# checked before reuse, so a restarted server costs one failed check, not a failed request. The
# check asks the connection's socket, not the server (mesa247/postgresql): no round trip.
DATABASE_URL = env.text("DATABASE_URL") or embedded_postgres.expected_url()
DB_CONN_MAX_AGE = env.integer("DB_CONN_MAX_AGE", 600, minimum=0)
# `transaction` when DATABASE_URL (and the replicas) are reached through PgBouncer in transaction
# pooling mode: no server-side prepared statements, no server-side cursors (docs/operations.md).
DATABASE_POOL_MODE = env.text("DATABASE_POOL_MODE", "session").lower()
if DATABASE_POOL_MODE not in ("session", "transaction"):
    raise ImproperlyConfigured(f"DATABASE_POOL_MODE must be session or transaction, got {DATABASE_POOL_MODE!r}.")
# Hot standbys the read-only endpoints and the admin's list pages may read from (mesa247/routers.py).
DATABASE_REPLICA_URLS = env.items("DATABASE_REPLICA_URLS")
REPLICA_MAX_LAG_SECONDS = env.integer("REPLICA_MAX_LAG_SECONDS", 5, minimum=0)


def _database(url: str) -> dict[str, Any]:
    database: dict[str, Any] = dict(dj_database_url.parse(url, conn_max_age=DB_CONN_MAX_AGE,
                                                           conn_health_checks=True))
    if database["ENGINE"] != "django.db.backends.postgresql":
        raise ImproperlyConfigured(f"A database URL must name a PostgreSQL database (postgres://…), not {url!r}.")
    database["ENGINE"] = "mesa247.postgresql"
    # Parameters travel apart from the SQL (server-side binding): the ledger's bulk statements pass
    # arrays of thousands of values, which would otherwise be spelled out as SQL text and parsed
    # again. The balance read and the posting are prepared once per connection (mesa247/postgresql: `prepared()`),
    # except behind a transaction pooler, where a connection is not ours between transactions.
    database["OPTIONS"] = {**database.get("OPTIONS", {}), "server_side_binding": True}
    database["POOL_MODE"] = DATABASE_POOL_MODE
    database["DISABLE_SERVER_SIDE_CURSORS"] = DATABASE_POOL_MODE == "transaction"
    return database


DATABASES: dict[str, dict[str, Any]] = {"default": _database(DATABASE_URL)}
for _number, _replica_url in enumerate(DATABASE_REPLICA_URLS, start=1):
    _replica = _database(_replica_url)
    # A replica that does not answer is skipped, not waited for.
    _replica["OPTIONS"] = {**_replica["OPTIONS"], "connect_timeout": 2}
    DATABASES[f"replica_{_number}"] = {**_replica, "REPLICA": True, "TEST": {"MIRROR": "default"}}
if DATABASE_REPLICA_URLS:
    DATABASE_ROUTERS = ["mesa247.routers.PrimaryReplicaRouter"]
    # Last: it opens the read scope just before a read-only view runs (mesa247/routers.py).
    MIDDLEWARE.append("mesa247.routers.ReplicaReadsMiddleware")

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# ModelBackend, answering API requests from the permissions their token query loaded.
# django-axes first: it refuses a locked-out user or address before any password is checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "mesa247.authentication.PreloadedPermissionsBackend",
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- Time and money -------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = env.text("TIME_ZONE", "America/Lima")
USE_I18N = True
USE_TZ = True

SUPPORTED_CURRENCIES = [code.upper() for code in env.items("SUPPORTED_CURRENCIES", "PEN,USD,MXN")]
DEFAULT_CURRENCY = env.text("DEFAULT_CURRENCY", "PEN").upper()
if DEFAULT_CURRENCY not in SUPPORTED_CURRENCIES:
    raise ImproperlyConfigured(
        f"DEFAULT_CURRENCY {DEFAULT_CURRENCY!r} is not in SUPPORTED_CURRENCIES {SUPPORTED_CURRENCIES}."
    )
MATURITY_WINDOW_DAYS = env.integer("MATURITY_WINDOW_DAYS", 7, minimum=0)

# --- Processor webhooks ---------------------------------------------------
# Several secrets allow rotation: an event signed with any of them is accepted.
PROCESSOR_WEBHOOK_SECRETS = env.items("PROCESSOR_WEBHOOK_SECRETS")
PROCESSOR_SIGNATURE_TOLERANCE_SECONDS = 300
PROCESSOR_EVENT_MAX_BYTES = 64 * 1024
PROCESSOR_BATCH_MAX_EVENTS = 1000
PROCESSOR_BATCH_MAX_BYTES = 8 * 1024 * 1024
# The batch endpoint needs more than Django's 2.5 MB default.
DATA_UPLOAD_MAX_MEMORY_SIZE = PROCESSOR_BATCH_MAX_BYTES + 1024

# --- Reconciliation with the processor's settlement reports (reconciliation/) ---
# An event that no report has listed this many days after it occurred is missing from the reports.
RECONCILIATION_GRACE_DAYS = env.integer("RECONCILIATION_GRACE_DAYS", 3, minimum=0)
RECONCILIATION_REPORT_MAX_BYTES = 200 * 1024 * 1024

# --- API tokens (access/) ---------------------------------------------------
# A new token lives this many days unless its creator says otherwise.
API_TOKEN_TTL_DAYS = env.integer("API_TOKEN_TTL_DAYS", 90, minimum=1)
# This many unknown tokens from one address within API_TOKEN_LOCKOUT_MINUTES lock the address out
# of token authentication (429) for API_TOKEN_LOCKOUT_MINUTES.
API_TOKEN_FAILURE_LIMIT = env.integer("API_TOKEN_FAILURE_LIMIT", 20, minimum=1)
API_TOKEN_LOCKOUT_MINUTES = env.integer("API_TOKEN_LOCKOUT_MINUTES", 15, minimum=1)

# --- Static files ---------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES: dict[str, dict[str, Any]] = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
# Serve straight from the apps' static folders when collectstatic has not run
# (local runs and tests); production images run collectstatic.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG
# Without collectstatic (local runs, tests) there is no STATIC_ROOT to warn about.
warnings.filterwarnings("ignore", message="No directory at")
if not (STATIC_ROOT / "staticfiles.json").exists():
    STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}

# --- API ------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Token first so that an anonymous request gets 401 with WWW-Authenticate.
        "access.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["mesa247.parsers.StrictJSONParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "mesa247.errors.api_exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}

# The OpenAPI document's title, description and enum names (mesa247/openapi_settings.py).
SPECTACULAR_SETTINGS = OPENAPI_SETTINGS

# --- Background work (django-q2) ------------------------------------------
# Payout runs execute in `manage.py qcluster`, never in a request.
# - Broker: the ORM broker on the default database (no extra service), so a
#   run and its queued task commit or roll back together; Redis when REDIS_URL
#   is set (the run is then queued after commit). The ORM broker keeps a task
#   until it is acknowledged and hands it out again after `retry`; Redis has
#   no delivery receipts: a task whose worker is killed is gone. Either way a
#   run left `running` by a killed worker is found (its advisory lock is free)
#   and queued again by the periodic schedule "payouts: resume stale runs"
#   (payouts/schedules.py, created by a migration), and so is a run still
#   `queued` after `retry` on Redis (its task lost on the way to or inside Redis).
# - `timeout` (the task gets a SystemExit after it, and its worker is
#   replaced) is well below `retry`, so a slow run is never handed to a second
#   worker while the first still runs it. A run that times out is recorded
#   failed with the reason, like any other end of its execution.
# - `ack_failures`: a task that raised is acknowledged and kept in "Failed
#   tasks" instead of being re-delivered in a loop; the run records the error
#   and is retried on purpose (`run_payouts --retry RUN_ID`).
# - `max_attempts` bounds deliveries; a run started that many times without
#   finishing is marked failed rather than resumed again.
# - `catch_up: False`: a scheduler that was down does not replay missed runs.
# The run task is idempotent and takes its own lock anyway (see payouts.services).
# Payouts a run creates side by side (threads, each with its own database connection). Each
# payout is still its own transaction under its restaurant's lock; running several at once lets
# their commits share the disk's flushes, which bound a one-at-a-time run.
PAYOUT_RUN_CONCURRENCY = env.integer("PAYOUT_RUN_CONCURRENCY", 4, minimum=1)

# Scheduled work (payouts/schedules.py; created by migration, kept in step by `manage.py payout_schedules`):
# a payout run per supported currency every day at PAYOUT_SCHEDULE_TIME (local, TIME_ZONE) for
# yesterday's as_of, and the ledger check every night at LEDGER_CHECK_SCHEDULE_TIME.

PAYOUT_SCHEDULE_TIME = env.local_time("PAYOUT_SCHEDULE_TIME", "06:00")
PAYOUT_SCHEDULE_MIN_AMOUNT = env.integer("PAYOUT_SCHEDULE_MIN_AMOUNT", 5000, minimum=1)
LEDGER_CHECK_SCHEDULE_TIME = env.local_time("LEDGER_CHECK_SCHEDULE_TIME", "02:00")

REDIS_URL = env.text("REDIS_URL")
Q_TIMEOUT = env.integer("Q_TIMEOUT", 600)
Q_RETRY = env.integer("Q_RETRY", 1200)
if not 0 < Q_TIMEOUT < Q_RETRY:
    raise ImproperlyConfigured(f"Q_TIMEOUT ({Q_TIMEOUT}) must be positive and below Q_RETRY ({Q_RETRY}).")
Q_CLUSTER: dict[str, Any] = {
    "name": "mesa247",
    "workers": env.integer("Q_WORKERS", 2, minimum=1),
    "timeout": Q_TIMEOUT,
    "retry": Q_RETRY,
    "max_attempts": 3,
    "ack_failures": True,
    "catch_up": False,
    "save_limit": 1000,
    "poll": 0.5,
    "label": "Background tasks",
}
if REDIS_URL:
    Q_CLUSTER["redis"] = REDIS_URL
else:
    Q_CLUSTER["orm"] = "default"

# --- Logging: one JSON object per line on stdout --------------------------
LOG_LEVEL = env.text("LOG_LEVEL", "INFO").upper()
LOGGING = logging_config(LOG_LEVEL)

# --- Security when served without DEBUG -----------------------------------
# With DEBUG off the service is reached over HTTPS, usually through a proxy that
# terminates TLS: cookies are HTTPS-only, plain HTTP is redirected to HTTPS and
# browsers are told (HSTS) to use nothing else. Each can be turned off for a
# plain-HTTP trial (see .env.example); with DEBUG on (local runs) all are off.
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_COOKIES = env.flag("SECURE_COOKIES", not DEBUG)
SESSION_COOKIE_SECURE = SECURE_COOKIES
CSRF_COOKIE_SECURE = SECURE_COOKIES
CSRF_TRUSTED_ORIGINS = env.items("CSRF_TRUSTED_ORIGINS")
SECURE_SSL_REDIRECT = env.flag("SECURE_SSL_REDIRECT", not DEBUG)
# Probes call the container directly over plain HTTP (docker-compose's healthcheck, a load balancer).
# So does Prometheus scraping /metrics inside the deployment's network.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
SECURE_HSTS_SECONDS = env.integer("SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.flag("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = env.flag("SECURE_HSTS_PRELOAD", True)
# The header a TLS-terminating proxy sets on HTTPS requests ("X-Forwarded-Proto: https"); set it only
# behind a proxy that sets this header itself and strips it from clients' requests.
SECURE_PROXY_SSL_HEADER = env.proxy_ssl_header("SECURE_PROXY_SSL_HEADER")

LOGIN_URL = "/admin/login/"

# --- Back-office sign-in (docs/security.md) ----------------------------------
# A second factor (TOTP, django-otp) for the admin with DEBUG off. Off only for local trials: the
# system check staff.W001 warns when it is off with DEBUG off.
ADMIN_REQUIRE_2FA = env.flag("ADMIN_REQUIRE_2FA", not DEBUG)
OTP_TOTP_ISSUER = "Mesa 24/7 finance"
# Sessions (StaffSessionLifetimeMiddleware): an idle limit, counted from the session's last renewal
# (at most one a minute), and an absolute limit after sign-in.
ADMIN_SESSION_IDLE_MINUTES = env.integer("ADMIN_SESSION_IDLE_MINUTES", 15, minimum=1)
ADMIN_SESSION_MAX_HOURS = 12
SESSION_COOKIE_AGE = (ADMIN_SESSION_IDLE_MINUTES + 1) * 60
# Brute force (django-axes): ADMIN_LOCKOUT_FAILURES failed sign-ins for one user, or from one
# address, lock that user or address for ADMIN_LOCKOUT_MINUTES. The address is REMOTE_ADDR, or
# the one TRUSTED_PROXY_COUNT proxies recorded in X-Forwarded-For (mesa247/client_address.py).
TRUSTED_PROXY_COUNT = env.integer("TRUSTED_PROXY_COUNT", 0, minimum=0)
AXES_FAILURE_LIMIT = env.integer("ADMIN_LOCKOUT_FAILURES", 5, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=env.integer("ADMIN_LOCKOUT_MINUTES", 15, minimum=1))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
# A locked-out attempt does not extend the lock: it ends ADMIN_LOCKOUT_MINUTES after it began.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_CLIENT_IP_CALLABLE = "mesa247.client_address.client_address"
AXES_LOCKOUT_CALLABLE = "staff.signin.locked_out_response"
AXES_HTTP_RESPONSE_CODE = 429
# Failures only: a row per success would grow without bound (the audit trail records sign-ins).
AXES_DISABLE_ACCESS_LOG = True
AXES_VERBOSE = False
# axes.W002 looks for its middleware by name; ours is a subclass (skipped for sessionless API calls).
SILENCED_SYSTEM_CHECKS = ["axes.W002"]
# Content-Security-Policy (django-csp): our pages load scripts, styles, images and fonts from our
# own origin only, and run no inline script. Swagger UI's generated SVG icons are data: URLs.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

# --- Operators: metrics and error reporting -------------------------------
# GET /metrics (mesa247/monitoring.py) needs `Authorization: Bearer <METRICS_TOKEN>`; without a
# token it answers 404 unless DEBUG is on. Under gunicorn every worker's figures add up
# (gunicorn.conf.py; PROMETHEUS_MULTIPROC_DIR, read by mesa247.metrics).
METRICS_TOKEN = env.text("METRICS_TOKEN")

# Errors (unhandled exceptions, ERROR logs) go to Sentry only when SENTRY_DSN is set.
SENTRY_DSN = env.text("SENTRY_DSN")
SENTRY_ENVIRONMENT = env.text("SENTRY_ENVIRONMENT")
if SENTRY_DSN:
    import sentry_sdk

    sentry_sdk.init(
        dsn=SENTRY_DSN,
        environment=SENTRY_ENVIRONMENT or None,
        send_default_pii=False,  # no user names, cookies or request bodies
        traces_sample_rate=0.0,  # errors only
    )
