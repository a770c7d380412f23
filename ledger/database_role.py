"""The service's own database role: every right it needs and none that could rewrite history.

The triggers refuse `UPDATE`, `DELETE` and `TRUNCATE` of money records to anyone
who connects. Their owner or a superuser can still switch them off (`ALTER TABLE
… DISABLE TRIGGER`, `session_replication_role = replica`), so in production the
web and worker processes connect as a role that is neither: `migrate` runs as
the owner, then `manage.py database_service_role ROLE` grants ROLE what the
service uses. The privileges then refuse what the triggers refuse, a second
lock on the same door.
"""

from django.db import connection

# Rows that never change once written: no UPDATE, no DELETE.
APPEND_ONLY_TABLES = (
    "audit_auditevent", "ledger_account", "ledger_adjustmentdecision", "ledger_entry", "ledger_transaction",
    "payouts_payoutitem", "payouts_payoutsettlement", "processor_event", "processor_payouteventconfirmation",
)
# Rows that change (an adjustment is locked while it is decided, a payout's status moves) but stay.
PERMANENT_TABLES = ("ledger_adjustment", "payouts_payout")


class RoleNotUsable(Exception):
    """The role does not exist, or is one whose rights no grant can limit."""


def service_role_statements(*, role: str) -> list[str]:
    """The GRANT and REVOKE statements that give `role` the service's rights in this database's schema."""
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_database(), current_schema()")
        database, schema = (quote(name) for name in cursor.fetchone())
    role = quote(role)
    tables = ", ".join(quote(table) for table in APPEND_ONLY_TABLES)
    permanent = ", ".join(quote(table) for table in PERMANENT_TABLES)
    return [
        f"GRANT CONNECT, TEMPORARY ON DATABASE {database} TO {role}",  # TEMPORARY: the loader's staging tables
        f"GRANT USAGE ON SCHEMA {schema} TO {role}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {schema} TO {role}",
        f"GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA {schema} TO {role}",
        # Tables and sequences later migrations create (as the same owner) get the same rights.
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA {schema} GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {role}",
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA {schema} GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO {role}",
        f"REVOKE UPDATE, DELETE, TRUNCATE ON {tables} FROM {role}",
        f"REVOKE DELETE, TRUNCATE ON {permanent} FROM {role}",
    ]


def service_role_grant(*, role: str) -> list[str]:
    """Grant `role` the service's rights (run by the tables' owner, after `migrate`); returns what ran."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT rolsuper, pg_has_role(oid, (SELECT relowner FROM pg_class WHERE oid = 'ledger_entry'::regclass),"
            " 'MEMBER') FROM pg_roles WHERE rolname = %s",
            [role],
        )
        found = cursor.fetchone()
    if found is None:
        raise RoleNotUsable(f'Role "{role}" does not exist; create it first (CREATE ROLE … LOGIN PASSWORD …).')
    superuser, owner = found
    if superuser or owner:
        what = "a superuser" if superuser else "the tables' owner or a member of it"
        raise RoleNotUsable(f'Role "{role}" is {what}: no grant can limit it. Use a role of its own for the service.')
    statements = service_role_statements(role=role)
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)
    return statements
