from pathlib import Path

# The audit trail's database rules, one file per rule (see mesa247/migration_sql.py).
AUDIT_RULES_DIRECTORY = Path(__file__).resolve().parent / "sql"
