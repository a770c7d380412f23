"""Each database rule as it stands is written once, in its app's sql/ directory, and is what PostgreSQL holds."""

import re
from pathlib import Path

import pytest
from django.db import connection

from mesa247.migration_sql import rule_triggers

ROOT = Path(__file__).resolve().parent.parent
RULE_DIRECTORIES = [ROOT / app / "sql" for app in ("ledger", "payouts", "processor", "audit", "reconciliation")]
FUNCTION = re.compile(r"CREATE\s+OR\s+REPLACE\s+FUNCTION\s+(\w+)\s*\(.*?\$\$(.*?)\$\$", re.IGNORECASE | re.DOTALL)

pytestmark = pytest.mark.django_db


def rule_files() -> list[Path]:
    return sorted(path for directory in RULE_DIRECTORIES for path in directory.glob("*.sql"))


def functions_in_files() -> dict[str, list[tuple[Path, str]]]:
    found: dict[str, list[tuple[Path, str]]] = {}
    for path in rule_files():
        for name, body in FUNCTION.findall(path.read_text()):
            found.setdefault(name, []).append((path, body))
    return found


def test_every_trigger_in_the_database_is_created_by_exactly_one_rule_file():
    with connection.cursor() as cursor:
        cursor.execute("""SELECT t.tgname, c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
                           JOIN pg_namespace n ON n.oid = c.relnamespace
                          WHERE NOT t.tgisinternal AND n.nspname = 'public'""")
        in_database = sorted(cursor.fetchall())
    in_files = sorted(found for directory in RULE_DIRECTORIES for found in rule_triggers(directory))
    assert in_files == in_database


def test_every_function_in_the_database_is_the_text_of_exactly_one_rule_file():
    with connection.cursor() as cursor:
        cursor.execute("""SELECT p.proname, p.prosrc FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
                           JOIN pg_language l ON l.oid = p.prolang
                          WHERE n.nspname = 'public' AND l.lanname IN ('plpgsql', 'sql')""")
        in_database = dict(cursor.fetchall())
    in_files = functions_in_files()
    assert sorted(in_files) == sorted(in_database)
    assert {name: len(places) for name, places in in_files.items() if len(places) != 1} == {}
    assert {name for name, [(_, body)] in in_files.items() if body != in_database[name]} == set()


def test_the_ledgers_rules_name_no_processor_or_payouts_table():
    named = {path.name: re.findall(r"\b(?:processor|payouts)_\w+", path.read_text())
             for path in (ROOT / "ledger" / "sql").glob("*.sql")}
    assert {name: tables for name, tables in named.items() if tables} == {}


# The statement-level checks that look the statement's rows up in tables that grow with every event or payout.
CHECKS_AGAINST_GROWING_TABLES = ("ledger_check_entry_references", "ledger_check_open_entry_references",
                                 "processor_check_transaction_event", "payouts_check_settlement")


def test_checks_against_growing_tables_look_rows_up_by_index_whatever_the_plan_cache_saw():
    # A session caches a check's plan the first time it runs it: planned while the tables were nearly
    # empty, a hash join read them whole at every posting afterwards (a single event's posting went from
    # 0.8 ms to 12 ms as they grew). The function's own settings leave the planner index lookups only.
    with connection.cursor() as cursor:
        cursor.execute("SELECT proname, proconfig FROM pg_proc WHERE proname = ANY(%s)",
                       [list(CHECKS_AGAINST_GROWING_TABLES)])
        settings = {name: sorted(config or []) for name, config in cursor.fetchall()}
    assert settings == dict.fromkeys(
        CHECKS_AGAINST_GROWING_TABLES, ["enable_hashjoin=off", "enable_mergejoin=off", "enable_seqscan=off"])
