"""Request ids and structured log context.

Every log line is one JSON object carrying the current `request_id` and, where
they apply, `event_id`, `restaurant_id`, `run_id` and `payout_id`.
"""

import contextlib
import contextvars
import logging
import re
import time
import uuid
from datetime import UTC, datetime

from pythonjsonlogger.json import JsonFormatter

_log_context: contextvars.ContextVar[dict] = contextvars.ContextVar("log_context", default={})  # noqa: B039 - never mutated

REQUEST_ID_HEADER = "X-Request-ID"
_SAFE_REQUEST_ID = re.compile(r"\A[A-Za-z0-9._:-]{1,128}\Z")

logger = logging.getLogger("mesa247.request")


@contextlib.contextmanager
def log_context(**fields):
    """Attach fields (event_id, run_id, …) to every log line in the block."""
    token = _log_context.set({**_log_context.get(), **{k: v for k, v in fields.items() if v is not None}})
    try:
        yield
    finally:
        _log_context.reset(token)


class JsonLogFormatter(JsonFormatter):
    """python-json-logger with `time` as ISO-8601 UTC (2026-01-01T12:00:00.123Z), whatever TIME_ZONE is."""

    def formatTime(self, record, datefmt=None):  # noqa: N802 - logging's name
        moment = datetime.fromtimestamp(record.created, tz=UTC)
        return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


class LogContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        for key, value in _log_context.get().items():
            if not hasattr(record, key):
                setattr(record, key, value)
        return True


class RequestIdMiddleware:
    """Take the caller's X-Request-ID (or make one), log the request, echo it back."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get(REQUEST_ID_HEADER, "")
        request_id = incoming if _SAFE_REQUEST_ID.match(incoming) else uuid.uuid4().hex
        request.request_id = request_id
        started = time.monotonic()
        with log_context(request_id=request_id):
            response = self.get_response(request)
            logger.info(
                "request",
                extra={
                    "method": request.method,
                    "path": request.path,
                    "status": response.status_code,
                    "duration_ms": round((time.monotonic() - started) * 1000, 1),
                },
            )
        response[REQUEST_ID_HEADER] = request_id
        return response


def logging_config(level: str) -> dict:
    """Django's LOGGING: one JSON object per line on stdout, with the request's context, at `level`."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"context": {"()": "mesa247.observability.LogContextFilter"}},
        "formatters": {
            "json": {
                "()": "mesa247.observability.JsonLogFormatter",
                "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s",
                "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
            }
        },
        "handlers": {
            "stdout": {
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stdout",
                "formatter": "json",
                "filters": ["context"],
            }
        },
        "root": {"handlers": ["stdout"], "level": level},
        "loggers": {
            "django": {"handlers": ["stdout"], "level": level, "propagate": False},
            # Request lines come from our own middleware, with the request id.
            # (CRITICAL: runserver's 4xx/5xx lines would otherwise reach Python's plain-text last resort.)
            "django.server": {"handlers": [], "level": "CRITICAL", "propagate": False},
            "django.request": {"handlers": ["stdout"], "level": "ERROR", "propagate": False},
            "django-q": {"handlers": ["stdout"], "level": level, "propagate": False},
        },
    }
