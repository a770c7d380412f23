"""The SQL that holds database invariants, read from files.

An app's rules as they stand live in `<app>/sql/<rule>.sql`, one file per rule: its function(s) with
CREATE OR REPLACE and its trigger(s) with DROP TRIGGER IF EXISTS then CREATE, so applying a file again
puts its current text in place. A migration applies a rule with `run_rule_files`; a later change to a
rule is the edited file plus a new migration that applies it again. Older migrations keep their own
`NNNN_name.sql` (forward) and `NNNN_name.reverse.sql` beside them as history (`run_sql_file`).
"""

import re
from pathlib import Path

from django.db import migrations

# `CREATE [CONSTRAINT] TRIGGER name {BEFORE|AFTER|INSTEAD OF} … ON table`
_TRIGGER = re.compile(
    r"\bCREATE\s+(?:CONSTRAINT\s+)?TRIGGER\s+(\w+)\s+(?:BEFORE|AFTER|INSTEAD\s+OF)\b[^;]*?\bON\s+(\w+)",
    re.IGNORECASE,
)


def run_sql_file(migration_file: str, name: str) -> migrations.RunSQL:
    directory = Path(migration_file).resolve().parent
    return migrations.RunSQL(
        (directory / f"{name}.sql").read_text(),
        (directory / f"{name}.reverse.sql").read_text(),
        elidable=False,
    )


def rules_directory(migration_file: str) -> Path:
    """`<app>/sql/` of the app whose migration this is."""
    return Path(migration_file).resolve().parent.parent / "sql"


def run_rule_files(migration_file: str, *rules: str, reverse_sql=migrations.RunSQL.noop) -> migrations.RunSQL:
    """Apply the current text of the app's `rules`. Going back leaves them in place unless `reverse_sql`
    says otherwise: a rule's earlier text is history, in the migration that held it then."""
    directory = rules_directory(migration_file)
    return migrations.RunSQL(
        "\n".join((directory / f"{rule}.sql").read_text() for rule in rules), reverse_sql, elidable=False
    )


def rule_triggers(directory: Path) -> list[tuple[str, str]]:
    """(trigger, table) of every trigger the rule files in `directory` create, in file and text order."""
    return [
        (match.group(1), match.group(2))
        for path in sorted(directory.glob("*.sql"))
        for match in _TRIGGER.finditer(path.read_text())
    ]
