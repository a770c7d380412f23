"""Prometheus metrics: the few counters and histograms operators alert on, and the cheap ways to move them.

Apps count through the functions here (`event_counted`, `payout_run_counted`,
`payout_counted`) where an outcome is decided; none imports prometheus_client.
`RequestLatencyMiddleware` times every request per resolved view.

Several processes (gunicorn workers, qcluster workers) each count on their
own; with `PROMETHEUS_MULTIPROC_DIR` set, prometheus_client keeps every
process's values in memory-mapped files in that directory and `exposition()`
adds them up. Files are named after `<host>-<pid>`, so processes of several
containers can share one directory without mixing their values. Under the
repository's gunicorn settings the variable is always set (gunicorn.conf.py
makes a private directory when the operator names none). Without it, each
process exposes only its own values (fine for one process, `runserver` or the
tests).

The labels are closed sets (event types, outcomes, currencies, statuses,
view names), so the number of series stays small whatever the traffic.
"""

import os
import socket
import time
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
    values,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

if TYPE_CHECKING:  # the services count through this module, and services answer no request
    from django.http import HttpRequest, HttpResponseBase

MULTIPROCESS_DIRECTORY = os.environ.get("PROMETHEUS_MULTIPROC_DIR", "")
HOST = socket.gethostname().replace("_", "-")


# This process's pid and identifier, built once per process (prometheus_client asks often).
_current: dict[int, str] = {}


def process_identifier(pid: int | None = None) -> str:
    """The name of a process's files in the multiprocess directory (gunicorn's child_exit uses it too)."""
    if pid is not None:
        return f"{HOST}-{pid}"
    current = os.getpid()
    identifier = _current.get(current)
    if identifier is None:  # first call, or a forked child
        _current.clear()
        identifier = _current[current] = f"{HOST}-{current}"
    return identifier


# Before any metric is built: values of this process go to files named after host and pid; or, with
# the variable unset or empty (an exported `.env`), stay in memory (prometheus_client alone would
# take an empty value for the current directory).
if MULTIPROCESS_DIRECTORY:
    values.ValueClass = values.MultiProcessValue(process_identifier=process_identifier)
else:
    values.ValueClass = values.MutexValue

CONTENT_TYPE = CONTENT_TYPE_LATEST

# --- Requests ---------------------------------------------------------------

REQUEST_LATENCY = Histogram(
    "mesa247_http_request_duration_seconds",
    "Time to answer a request, per resolved view (unresolved paths count as 'unresolved') and status class.",
    ["view", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
STATUS_CLASSES = ("0xx", "1xx", "2xx", "3xx", "4xx", "5xx")
UNRESOLVED_VIEW = "unresolved"

# view name → status class index → the histogram's child; filled as views are first seen.
_request_children: dict[str, list[Histogram | None]] = {}


def _request_child(view: str, status_class: int) -> Histogram:
    children = _request_children.get(view)
    if children is None:
        children = _request_children[view] = [None] * len(STATUS_CLASSES)
    child = children[status_class]
    if child is None:
        child = children[status_class] = REQUEST_LATENCY.labels(view, STATUS_CLASSES[status_class])
    return child


class RequestLatencyMiddleware:
    """Observe each request's duration under its resolved view name; one clock read and one observation."""

    def __init__(self, get_response: "Callable[[HttpRequest], HttpResponseBase]") -> None:
        self.get_response = get_response

    def __call__(self, request: "HttpRequest") -> "HttpResponseBase":
        started = time.perf_counter()
        response = self.get_response(request)
        match = request.resolver_match
        status_class = response.status_code // 100
        _request_child(match.view_name if match is not None else UNRESOLVED_VIEW,
                       status_class if 0 < status_class < 6 else 0).observe(time.perf_counter() - started)
        return response


# --- Business ---------------------------------------------------------------

EVENTS = Counter(
    "mesa247_events_total",
    "Processor events received by the ingestion service, by type and outcome.",
    ["event_type", "outcome"],
)
# confirmed: a payout event for a status a settlement report already applied (stored, nothing posted).
EVENT_OUTCOMES = ("created", "replay", "confirmed", "conflict", "rejected")
# An event type outside this set (a rejected payload's) is counted as "invalid".
EVENT_TYPES = ("charge_succeeded", "refund_succeeded", "payout_paid", "payout_failed")
INVALID_EVENT_TYPE = "invalid"
_event_children = {
    event_type: {outcome: EVENTS.labels(event_type, outcome) for outcome in EVENT_OUTCOMES}
    for event_type in (*EVENT_TYPES, INVALID_EVENT_TYPE)
}


def event_counted(event_type: object, outcome: str) -> None:
    """One event ingested with `outcome` (created, replay, confirmed, conflict or rejected)."""
    # Any JSON value may arrive as a rejected payload's type (an object is not even hashable).
    children = (isinstance(event_type, str) and _event_children.get(event_type)) or _event_children[INVALID_EVENT_TYPE]
    children[outcome].inc()


API_TOKEN_REFUSALS = Counter(
    "mesa247_api_token_refusals_total",
    "API token requests refused, by reason: invalid (no token of ours: counted toward a lockout), expired, "
    "revoked, inactive (the user), locked_out (from an address locked out); lockout counts the lockouts started.",
    ["reason"],
)
API_TOKEN_REFUSAL_REASONS = ("invalid", "expired", "revoked", "inactive", "locked_out", "lockout")
_api_token_refusal_children = {reason: API_TOKEN_REFUSALS.labels(reason) for reason in API_TOKEN_REFUSAL_REASONS}


def api_token_refusal_counted(reason: str) -> None:
    """One API token refused for `reason`, or (`lockout`) one address locked out for guessing."""
    _api_token_refusal_children[reason].inc()


PAYOUT_RUNS = Counter(
    "mesa247_payout_runs_total",
    "Payout run executions that ended, by currency and status (succeeded, failed).",
    ["currency", "status"],
)
PAYOUT_RUN_DURATION = Histogram(
    "mesa247_payout_run_duration_seconds",
    "Time a payout run execution took, by currency and status.",
    ["currency", "status"],
    buckets=(0.1, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0),
)


def payout_run_counted(*, currency: str, status: str, seconds: float) -> None:
    """One payout run execution ended with `status` after `seconds`."""
    PAYOUT_RUNS.labels(currency, status).inc()
    PAYOUT_RUN_DURATION.labels(currency, status).observe(seconds)


PAYOUTS = Counter(
    "mesa247_payouts_total",
    "Payouts entering a status (created by a run, paid or failed by the bank), by currency and status.",
    ["currency", "status"],
)


def payout_counted(*, currency: str, status: str) -> None:
    """One payout entered `status` (counted once its transaction committed)."""
    PAYOUTS.labels(currency, status).inc()


# --- Back-office sign-ins ---------------------------------------------------

SIGNINS = Counter(
    "mesa247_admin_signins_total",
    "Back-office sign-ins by outcome: succeeded, failed (password or second factor), locked_out.",
    ["outcome"],
)


def signin_counted(outcome: str) -> None:
    """One back-office sign-in attempt ended: "succeeded", "failed" or "locked_out"."""
    SIGNINS.labels(outcome=outcome).inc()


# --- Exposition -------------------------------------------------------------


def exposition(*collectors: Collector) -> bytes:
    """The text format of every metric (every process's, in multiprocess mode), plus `collectors`."""
    registry = CollectorRegistry()
    if MULTIPROCESS_DIRECTORY:
        multiprocess.MultiProcessCollector(registry)
    else:
        registry.register(_Forward(REGISTRY))
    for collector in collectors:
        registry.register(collector)
    return generate_latest(registry)


class _Forward:
    """Exposes another registry's metrics from a per-scrape registry."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry

    def collect(self) -> Iterable[Metric]:
        return self.registry.collect()


class GaugesCollector:
    """Gauges read at scrape time: `read()` returns (name, help, value) triples; a None value is left out.

    For figures whose truth lives in the database (the last ledger check), which
    no single process could count.
    """

    def __init__(self, read: Callable[[], Iterable[tuple[str, str, float | None]]]) -> None:
        self.read = read

    def collect(self) -> Iterator[Metric]:
        for name, documentation, value in self.read():
            if value is not None:
                yield GaugeMetricFamily(name, documentation, value=value)


def process_dead(pid: int) -> None:
    """gunicorn's child_exit: forget the live gauges of a worker that is gone (its counters stay counted)."""
    if MULTIPROCESS_DIRECTORY:
        multiprocess.mark_process_dead(process_identifier(pid), MULTIPROCESS_DIRECTORY)
