"""`flush` as the test runner needs it: every table emptied, the money tables included.

The money tables refuse TRUNCATE (ledger migration 0014), so production's
`manage.py flush` fails. Between transactional tests the runner still has to
empty them: it does so in a transaction with `session_replication_role =
replica`, which only a superuser may set and under which no ordinary trigger
fires. That mode ends with the transaction, before the post-migrate signal
re-creates content types and permissions, whose foreign keys are checked as usual.
Installed by the test settings only.
"""

from django.core.management.color import no_style
from django.core.management.commands import flush
from django.core.management.sql import emit_post_migrate_signal, sql_flush
from django.db import connections, transaction


class Command(flush.Command):
    help = "Empty every table, the money tables included (test settings only)."

    def handle(self, **options):
        database = options["database"]
        connection = connections[database]
        sql_list = sql_flush(
            no_style(),
            connection,
            reset_sequences=options.get("reset_sequences", True),
            allow_cascade=options.get("allow_cascade", False),
        )
        with transaction.atomic(using=database):
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL session_replication_role = replica")
            connection.ops.execute_sql_flush(sql_list)
        if sql_list and not options.get("inhibit_post_migrate", False):
            emit_post_migrate_signal(options["verbosity"], options["interactive"], database)
