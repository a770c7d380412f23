"""Liveness and readiness probes for the load balancer and docker-compose."""

from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.http import JsonResponse
from django.views.decorators.http import require_GET


@require_GET
def healthz(request):
    return JsonResponse({"status": "ok"})


@require_GET
def readyz(request):
    try:
        connection.ensure_connection()
        executor = MigrationExecutor(connection)
        unapplied = executor.migration_plan(executor.loader.graph.leaf_nodes())
    except Exception as exc:  # any database failure means "not ready", never a crash
        return JsonResponse({"status": "unavailable", "database": "unreachable", "detail": str(exc)[:200]}, status=503)
    if unapplied:
        return JsonResponse(
            {"status": "unavailable", "database": "ok", "migrations": f"{len(unapplied)} unapplied"}, status=503
        )
    return JsonResponse({"status": "ok", "database": "ok", "migrations": "applied"})
