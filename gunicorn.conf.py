"""gunicorn settings for the web service; gunicorn reads this file from the working directory by itself.

Metrics add up over every worker with no setting: each worker counts into its
own files in one directory, and `/metrics` reads them all (docs/operations.md#metrics-get-metrics).
With PROMETHEUS_MULTIPROC_DIR set (docker-compose.yml shares one volume with
the payout worker), that directory; unset, `on_starting` makes a private one
for this server, emptied at start and removed at exit. `child_exit` tells
prometheus_client that a worker is gone; its counters stay counted.

Environment: GUNICORN_BIND (or PORT, default 8000; address 0.0.0.0), WEB_CONCURRENCY (worker
processes, default 2), GUNICORN_WORKER_CLASS (default gthread) and GUNICORN_THREADS (threads per
worker, default 8). `make bench` measures the defaults.
"""

import os
import shutil
import tempfile
from pathlib import Path

from mesa247.server_errors import REQUEST_LINE_MAX, problems_from_gunicorn


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    return int(raw) if raw else default


bind = os.environ.get("GUNICORN_BIND") or f"0.0.0.0:{os.environ.get('PORT') or 8000}"
workers = _int("WEB_CONCURRENCY", 2)
# Threads let a worker answer other requests while one waits on PostgreSQL (above all on the
# disk flush of its commit), and concurrent commits then share one flush. Measured with
# `make bench` on 2 cores: see docs/performance.md.
worker_class = os.environ.get("GUNICORN_WORKER_CLASS") or "gthread"
threads = _int("GUNICORN_THREADS", 8)
timeout = 30
# A request line (method, path and query) over this many bytes is refused by gunicorn itself with
# 414, before the application. gunicorn's own refusals are problem details like the API's other
# errors (mesa247/server_errors.py).
limit_request_line = REQUEST_LINE_MAX
problems_from_gunicorn()
# The application logs one JSON line per request itself (mesa247.observability).
accesslog = None
# gunicorn ≥ 24 opens a control socket ($XDG_RUNTIME_DIR or ~/.gunicorn/gunicorn.ctl) for `gunicornc`.
# Nothing here uses it, and two servers on one machine would share that default path.
control_socket_disable = True

METRICS_DIRECTORY = "PROMETHEUS_MULTIPROC_DIR"
# Names the directory this server made itself (the variable alone could be the operator's, or inherited).
PRIVATE_METRICS_DIRECTORY = "MESA247_GUNICORN_METRICS_DIR"


def private_metrics_directory(master_pid: int) -> Path:
    return Path(tempfile.gettempdir()) / f"mesa247-gunicorn-metrics-{master_pid}"


def on_starting(server):
    """In the master, before any worker exists: workers inherit the directory through the environment."""
    if os.environ.get(METRICS_DIRECTORY, "").strip():
        return
    directory = private_metrics_directory(os.getpid())
    shutil.rmtree(directory, ignore_errors=True)  # a crashed server's, whose pid this one reuses
    directory.mkdir(mode=0o700)
    os.environ[METRICS_DIRECTORY] = os.environ[PRIVATE_METRICS_DIRECTORY] = str(directory)
    server.log.info("metrics: every worker counts into %s (PROMETHEUS_MULTIPROC_DIR unset)", directory)


def child_exit(server, worker):
    if os.environ.get(METRICS_DIRECTORY, "").strip():
        from mesa247.metrics import process_dead

        process_dead(worker.pid)


def on_exit(server):
    private = os.environ.get(PRIVATE_METRICS_DIRECTORY)
    if private and private == os.environ.get(METRICS_DIRECTORY):
        shutil.rmtree(private, ignore_errors=True)
