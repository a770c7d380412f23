"""Load the SQL that holds database invariants from files beside a migration.

`NNNN_name.sql` holds the forward SQL and `NNNN_name.reverse.sql` undoes it, so
a reader finds every trigger in one place. The SQL is PostgreSQL's; on the
embedded SQLite the same rules are kept by the services alone.
"""

from pathlib import Path

from django.db import migrations


def run_postgresql_file(migration_file: str, name: str) -> migrations.RunPython:
    directory = Path(migration_file).resolve().parent
    forward_sql = (directory / f"{name}.sql").read_text()
    reverse_sql = (directory / f"{name}.reverse.sql").read_text()

    def run(sql):
        def apply(apps, schema_editor):
            connection = schema_editor.connection
            if connection.vendor != "postgresql":
                return
            for statement in connection.ops.prepare_sql_script(sql):
                schema_editor.execute(statement, params=None)

        return apply

    return migrations.RunPython(run(forward_sql), run(reverse_sql), elidable=False)
