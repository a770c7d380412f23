"""`GET /metrics`: Prometheus text format for operators, behind a bearer token (wiring: reads the ledger).

- `METRICS_TOKEN` set: the request must carry `Authorization: Bearer <token>`
  (compared in constant time), else 401.
- `METRICS_TOKEN` unset: 404 with `DEBUG` off (metrics are never public by
  accident), open with `DEBUG` on (local runs).

The counters and histograms come from `mesa247.metrics` (every process's, in
multiprocess mode); the last ledger check is read from the database at each
scrape, so it is right whichever process or machine ran the check, and so are the open
reconciliation exceptions by outcome.
"""

import hmac
import logging
from collections.abc import Iterator

from django.conf import settings
from django.db import DatabaseError
from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.http import require_GET
from prometheus_client.core import GaugeMetricFamily, Metric

from ledger.integrity import ledger_check_last
from mesa247.metrics import CONTENT_TYPE, GaugesCollector, exposition
from reconciliation.selectors import open_exception_counts

logger = logging.getLogger("mesa247.metrics")


def ledger_check_gauges() -> list[tuple[str, str, float | None]]:
    try:
        last = ledger_check_last()
    except DatabaseError:
        logger.warning("metrics: the last ledger check could not be read", exc_info=True)
        return []
    if last is None:
        return []
    return [
        ("mesa247_ledger_check_ok", "1 if the last ledger check passed, 0 if it found problems.", int(last.ok)),
        ("mesa247_ledger_check_problems", "Problems the last ledger check found (at most the stored number).",
         len(last.problems or [])),
        ("mesa247_ledger_check_last_run_timestamp_seconds", "When the last ledger check ran (Unix time).",
         last.checked_at.timestamp()),
        ("mesa247_ledger_check_age_seconds", "Seconds since the last ledger check ran.",
         (timezone.now() - last.checked_at).total_seconds()),
    ]


LEDGER_CHECK = GaugesCollector(ledger_check_gauges)


class OpenExceptionsCollector:
    """Open reconciliation exceptions by outcome, read from the database at scrape time."""

    def collect(self) -> Iterator[Metric]:
        try:
            counts = open_exception_counts()
        except DatabaseError:
            logger.warning("metrics: the open reconciliation exceptions could not be read", exc_info=True)
            return
        family = GaugeMetricFamily("mesa247_reconciliation_open_exceptions",
                                   "Reconciliation exceptions not resolved yet, by outcome.", labels=["outcome"])
        for outcome, count in counts.items():
            family.add_metric([outcome], count)
        yield family


OPEN_EXCEPTIONS = OpenExceptionsCollector()


def _authorized(request: HttpRequest, token: str) -> bool:
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode())


@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    token = settings.METRICS_TOKEN
    if not token:
        if not settings.DEBUG:
            raise Http404("Metrics are off: METRICS_TOKEN is not set.")
    elif not _authorized(request, token):
        response = HttpResponse("A valid 'Authorization: Bearer <METRICS_TOKEN>' header is required.\n",
                                status=401, content_type="text/plain; charset=utf-8")
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    return HttpResponse(exposition(LEDGER_CHECK, OPEN_EXCEPTIONS), content_type=CONTENT_TYPE)
