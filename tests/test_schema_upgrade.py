"""A database migrated before the ledger lost its foreign keys upgrades to exactly the schema a new one gets.

Today's migrations (ledger 0016, payouts 0011, processor 0003, as they were: tests/schema_upgrade/today/
holds the files rewritten since) migrate one database, which then takes a charge and a refund through the
loader; the current migrations upgrade it, and migrate a fresh one. Both end with the same tables,
columns, constraints, indexes, functions and triggers, the upgraded one keeps its rows, and it then pays
out. (The payout is made after the upgrade: today's payout code writes columns that schema lacks, such
as a run's `held`. The key from a transaction to its payout is gone from the catalogue all the same.)
"""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
from django.db import connection

from tests.conftest import database_url

ROOT = Path(__file__).resolve().parent.parent
TODAY = ROOT / "tests" / "schema_upgrade" / "today"
TODAY_LEAVES = {"ledger": "0016", "payouts": "0011", "processor": "0003"}

pytestmark = pytest.mark.django_db(transaction=True)

CATALOGUE = {
    "columns": """SELECT table_name, column_name, data_type, character_maximum_length, is_nullable,
                         column_default
                    FROM information_schema.columns WHERE table_schema = 'public'""",
    "constraints": """SELECT conrelid::regclass::text, conname, contype, pg_get_constraintdef(oid), condeferrable,
                             condeferred
                        FROM pg_constraint WHERE connamespace = 'public'::regnamespace""",
    "indexes": "SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = 'public'",
    "functions": """SELECT proname, pg_get_function_identity_arguments(oid), prosrc
                      FROM pg_proc WHERE pronamespace = 'public'::regnamespace""",
    "triggers": """SELECT tgrelid::regclass::text, tgname, pg_get_triggerdef(oid), tgenabled
                     FROM pg_trigger WHERE NOT tgisinternal""",
}


def today_migrations(root: Path) -> str:
    """A package of today's migrations: the rewritten files as they were, the others loaded from the app."""
    package = root / "today_migrations"
    for app, leaf in TODAY_LEAVES.items():
        target = package / app
        target.mkdir(parents=True)
        (target / "__init__.py").write_text("")
        for path in sorted((ROOT / app / "migrations").glob("[0-9][0-9][0-9][0-9]_*.py")):
            if path.name[:4] > leaf:
                continue
            kept = TODAY / app / "migrations" / path.name
            if kept.exists():
                for piece in (TODAY / app / "migrations").glob(f"{path.stem}*"):
                    shutil.copy(piece, target / piece.name)
            else:
                (target / path.name).write_text(
                    "from importlib import import_module\n\n"
                    f"Migration = import_module('{app}.migrations.{path.stem}').Migration\n"
                )
    (package / "__init__.py").write_text("")
    return package.name


def manage(url: str, *arguments: str, settings: str = "mesa247.settings_test", extra_path: Path | None = None,
           migrations: str | None = None) -> str:
    environment = {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": settings}
    if extra_path is not None:
        assert migrations is not None, "an extra path comes with the migrations package it holds"
        environment["PYTHONPATH"] = os.pathsep.join([str(extra_path), str(ROOT)])
        environment["SCHEMA_UPGRADE_MIGRATIONS"] = migrations
    done = subprocess.run([sys.executable, "manage.py", *arguments], cwd=ROOT, env=environment,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def catalogue(url: str) -> dict[str, list]:
    with psycopg.connect(url) as database:
        return {name: sorted(database.execute(sql).fetchall(), key=repr) for name, sql in CATALOGUE.items()}


def rows(url: str, *tables: str) -> dict[str, int]:
    counts = {}
    with psycopg.connect(url) as database:
        for table in tables:
            row = database.execute(f"SELECT COUNT(*) FROM {table}").fetchone()
            assert row is not None  # COUNT(*) answers one row
            counts[table] = row[0]
    return counts


@pytest.fixture
def databases():
    names = [f"{connection.settings_dict['NAME']}_{kind}" for kind in ("upgraded", "fresh")]
    server = database_url("postgres")
    with psycopg.connect(server, autocommit=True) as admin:
        for name in names:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
            admin.execute(f'CREATE DATABASE "{name}"')
    yield [database_url(name) for name in names]
    with psycopg.connect(server, autocommit=True) as admin:
        for name in names:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_a_database_of_todays_schema_upgrades_to_what_a_fresh_one_gets_and_keeps_its_rows(databases, tmp_path):
    upgraded, fresh = databases
    package = today_migrations(tmp_path)
    manage(upgraded, "migrate", "--no-input", settings="tests.schema_upgrade.settings", extra_path=tmp_path,
           migrations=package)
    applied = manage(upgraded, "showmigrations", "ledger", "payouts", "processor", "--plan",
                     settings="tests.schema_upgrade.settings", extra_path=tmp_path, migrations=package)
    assert "[X]  ledger.0016_approval_has_its_posting" in applied and "ledger.0018" not in applied
    with psycopg.connect(upgraded) as database:  # today's schema: the ledger's keys to the other apps
        assert database.execute("""SELECT COUNT(*) FROM pg_constraint WHERE contype = 'f'
                                     AND conrelid = 'ledger_transaction'::regclass
                                     AND confrelid::regclass::text IN ('processor_event', 'payouts_payout')
                                """).fetchone()[0] == 2

    events = tmp_path / "events.jsonl"
    events.write_text("\n".join(json.dumps(event) for event in [
        {"event_id": "evt_up_1", "event_type": "charge_succeeded", "occurred_at": "2025-12-01T15:00:00Z",
         "restaurant_id": "res_up", "currency": "PEN", "amount": 12000, "fee": 600, "metadata": {}},
        {"event_id": "evt_up_2", "event_type": "refund_succeeded", "occurred_at": "2025-12-02T15:00:00Z",
         "restaurant_id": "res_up", "currency": "PEN", "amount": 5000, "metadata": {}},
    ]) + "\n")
    manage(upgraded, "load_events", str(events), "--no-progress")
    tables = ("processor_event", "ledger_transaction", "ledger_entry", "ledger_openentry", "payouts_payout",
              "payouts_payoutitem", "payouts_payoutsettlement", "ledger_restaurantbalance")
    before = rows(upgraded, *tables)
    assert (before["processor_event"], before["payouts_payout"], before["ledger_transaction"]) == (2, 0, 2)

    manage(upgraded, "migrate", "--no-input")
    manage(fresh, "migrate", "--no-input")

    assert catalogue(upgraded) == catalogue(fresh)
    assert rows(upgraded, *tables) == before
    manage(upgraded, "run_payouts", "--currency", "PEN", "--as-of", "2025-12-30", "--min-amount", "1", "--sync")
    with psycopg.connect(upgraded) as database:
        causes = database.execute("""SELECT t.kind, e.event_id, t.payout_id IS NOT NULL FROM ledger_transaction t
                                       LEFT JOIN processor_event e ON e.id = t.event_id ORDER BY t.id""").fetchall()
    assert causes == [("charge", "evt_up_1", False), ("refund", "evt_up_2", False), ("payout_reserve", None, True)]
    check = manage(upgraded, "ledger_check", "--no-store")
    assert check.startswith("Ledger OK: 18 checks passed over 3 transactions")
