"""Liveness and readiness probes for the load balancer and docker-compose."""

import logging

from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.http import JsonResponse
from django.views.decorators.http import require_GET

logger = logging.getLogger("mesa247.health")


@require_GET
def healthz(request):
    return JsonResponse({"status": "ok"})


@require_GET
def readyz(request):
    try:
        connection.ensure_connection()
        executor = MigrationExecutor(connection)
        unapplied = executor.migration_plan(executor.loader.graph.leaf_nodes())
    except Exception:  # any database failure means "not ready", never a crash
        # The reason goes to the log, not to an unauthenticated caller.
        logger.warning("readiness probe: database unreachable", exc_info=True)
        return JsonResponse({"status": "unavailable", "database": "unreachable"}, status=503)
    if unapplied:
        return JsonResponse(
            {"status": "unavailable", "database": "ok", "migrations": f"{len(unapplied)} unapplied"}, status=503
        )
    return JsonResponse({"status": "ok", "database": "ok", "migrations": "applied"})
