"""Load the SQL that holds database invariants from files beside a migration.

`NNNN_name.sql` holds the forward SQL and `NNNN_name.reverse.sql` undoes it, so
a reader finds every trigger in one place, and `manage.py sqlmigrate` shows it.
"""

from pathlib import Path

from django.db import migrations


def run_sql_file(migration_file: str, name: str) -> migrations.RunSQL:
    directory = Path(migration_file).resolve().parent
    return migrations.RunSQL(
        (directory / f"{name}.sql").read_text(),
        (directory / f"{name}.reverse.sql").read_text(),
        elidable=False,
    )
