"""`manage.py database_status`: which databases answer, which is the primary, and each replica's lag.

For deployments with a pooler or replicas (docs/operations.md): exits 1 when any database
cannot be reached, when `default` is not a primary, or when a replica is not a standby or lags
more than REPLICA_MAX_LAG_SECONDS (the router skips it then: reads fall back to the primary).
"""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError, connections

from mesa247.routers import replica_lag


class Command(BaseCommand):
    help = "Show whether each configured database answers, its role, and each replica's replay lag."

    def handle(self, *args, **options):
        problems = 0
        self.stdout.write(f"pool mode: {settings.DATABASE_POOL_MODE}")
        for alias, database in settings.DATABASES.items():
            where = f"{database.get('HOST') or 'localhost'}:{database.get('PORT') or 5432}/{database.get('NAME')}"
            try:
                if database.get("REPLICA"):
                    lag = replica_lag(alias)
                    if lag is None:
                        line, problems = "reachable, but NOT a standby (refused as a replica)", problems + 1
                    elif lag > settings.REPLICA_MAX_LAG_SECONDS:
                        line, problems = (f"replica, lag {lag:.1f} s: OVER {settings.REPLICA_MAX_LAG_SECONDS} s, "
                                          "skipped"), problems + 1
                    else:
                        line = f"replica, lag {lag:.1f} s (limit {settings.REPLICA_MAX_LAG_SECONDS} s), in use"
                else:
                    with connections[alias].cursor() as cursor:
                        cursor.execute("SELECT pg_is_in_recovery()")
                        (in_recovery,) = cursor.fetchone()
                    line = "primary, reachable" if not in_recovery else "IN RECOVERY: not a primary"
                    problems += bool(in_recovery)
            except DatabaseError as error:
                line, problems = f"UNREACHABLE: {str(error).strip().splitlines()[0]}", problems + 1
            self.stdout.write(f"{alias} ({where}): {line}")
        if problems:
            raise CommandError(f"{problems} database(s) need attention.")
