"""gunicorn settings for the web service; gunicorn reads this file from the working directory by itself.

With PROMETHEUS_MULTIPROC_DIR set (see docs/operations.md#metrics), `child_exit` tells
prometheus_client that a worker is gone; its counters stay counted.

Environment: GUNICORN_BIND (or PORT, default 8000; address 0.0.0.0), WEB_CONCURRENCY (worker
processes, default 2), GUNICORN_WORKER_CLASS (default gthread) and GUNICORN_THREADS (threads per
worker, default 8). `make bench` measures the defaults.
"""

import os

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


def child_exit(server, worker):
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from mesa247.metrics import process_dead

        process_dead(worker.pid)
