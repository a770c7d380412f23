"""The service connected as a role of its own: everything it does works, and history cannot be rewritten
even by switching the triggers off (docs/operations.md#database-role)."""

import json
from typing import cast

import psycopg
import pytest
from django.apps import apps
from django.core.management import CommandError, call_command
from django.db import connection

from ledger.database_role import APPEND_ONLY_TABLES
from ledger.integrity import protecting_triggers
from ledger.models import Transaction
from payouts.models import Payout, PayoutRun, PayoutRunStatus
from processor.models import Event
from tests.conftest import database_url
from tests.factories import EventPayloadFactory
from tests.processes import manage_command, processes

pytestmark = pytest.mark.django_db(transaction=True)

ROLE = "mesa247_service_drill"
LOADED = 200  # events in the file loaded as the service role: enough for the set-based path

# What the web and worker processes do, in one process connected as the service role: record
# events, propose and approve an adjustment (the approval locks the proposal), run payouts, record one paid.
SERVICE_WORK = """
from datetime import date
from django.contrib.auth.models import Permission, User
from ledger.services.adjustments import adjustment_approve, adjustment_propose
from payouts.models import Payout
from payouts.services import payout_run_execute, payout_run_request
from processor.ingestion import event_ingest
from tests.helpers import charge, refund
from tests.payouts.helpers import payout_paid_payload

charge(amount=10500, fee=500, at="2025-12-20T15:00:00Z", restaurant_id="res_role")
refund(amount=2000, at="2025-12-21T15:00:00Z", restaurant_id="res_role")
proposer = User.objects.create_user("role_proposer")
proposer.user_permissions.add(Permission.objects.get(codename="add_adjustment"))
approver = User.objects.create_user("role_approver")
approver.user_permissions.add(Permission.objects.get(codename="approve_adjustment"))
adjustment = adjustment_propose(restaurant_id="res_role", currency="PEN", amount=300, reason="goodwill_credit",
                                note="drill", proposed_by=User.objects.get(pk=proposer.pk))
adjustment_approve(adjustment_id=adjustment.pk, decided_by=User.objects.get(pk=approver.pk))
run = payout_run_request(currency="PEN", as_of=date(2026, 1, 10), min_amount=1, enqueue=False)
payout_run_execute(run_id=run.pk)
event_ingest(payload=payout_paid_payload(Payout.objects.get(), event_id="evt_role_paid", at="2026-01-11T12:00:00Z"))
"""


def primary_keys(tables) -> list[tuple[str, str]]:
    models = {model._meta.db_table: model for model in apps.get_models(include_auto_created=True)}
    # A primary key is a concrete field: it has a column.
    return [(table, cast(str, models[table]._meta.pk.column)) for table in tables]


def role_drop() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [ROLE])
        if cursor.fetchone():
            cursor.execute(f"DROP OWNED BY {ROLE}")  # its grants in this database
            cursor.execute(f"DROP ROLE {ROLE}")


@pytest.fixture
def service_role():
    role_drop()
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE ROLE {ROLE} LOGIN")
    call_command("database_service_role", ROLE)
    yield ROLE
    role_drop()


def service_url() -> str:
    return database_url(connection.settings_dict["NAME"]).replace(
        f"//{connection.settings_dict['USER'] or 'postgres'}@", f"//{ROLE}@", 1)


def test_the_service_does_all_its_work_as_its_own_role(service_role, tmp_path):
    events = tmp_path / "events.jsonl"
    events.write_text("".join(
        json.dumps(EventPayloadFactory(event_id=f"evt_role_{number}", restaurant_id=f"res_role_{number % 7}",
                                      amount=1000 + number, fee=30)) + "\n"
        for number in range(LOADED)))
    with processes() as start:
        for command in (
            manage_command("shell", "-c", SERVICE_WORK),
            manage_command("load_events", str(events), "--no-progress"),  # COPY into staging tables
            manage_command("ledger_check"),
        ):
            process = start(command, DATABASE_URL=service_url())
            assert process.wait() == 0, process.log()
            assert "permission denied" not in process.log()
    assert PayoutRun.objects.get().status == PayoutRunStatus.SUCCEEDED
    # 10000 net of the charge − 2000 refunded, and paid; the adjustment, approved today, counts from today.
    assert list(Payout.objects.values_list("restaurant_id", "amount", "status")) == [("res_role", 8000, "paid")]
    assert list(Transaction.objects.filter(adjustment__isnull=False).values_list("adjustment__amount", flat=True)) == [
        300]
    assert Event.objects.count() == 3 + LOADED


@pytest.mark.parametrize("statement", [
    *(f"UPDATE {table} SET {key} = {key}" for table, key in primary_keys(APPEND_ONLY_TABLES)),
    *(f"DELETE FROM {table}" for table in (*APPEND_ONLY_TABLES, "ledger_adjustment", "payouts_payout")),
    *(f"TRUNCATE {table} CASCADE" for trigger, table in protecting_triggers() if trigger == f"{table}_no_truncate"),
    "ALTER TABLE ledger_entry DISABLE TRIGGER ledger_entry_append_only",
    "ALTER TABLE processor_event DISABLE TRIGGER USER",
    "DROP TRIGGER ledger_entry_no_truncate ON ledger_entry",
    "SET session_replication_role = replica",
])
def test_the_service_role_cannot_rewrite_history_nor_switch_the_triggers_off(service_role, statement):
    with psycopg.connect(service_url()) as session, pytest.raises(psycopg.errors.InsufficientPrivilege):
        session.execute(statement)


def test_the_command_refuses_a_role_no_grant_can_limit_and_one_that_does_not_exist(service_role):
    owner = connection.settings_dict["USER"] or "postgres"
    with pytest.raises(CommandError, match=f'Role "{owner}" is a superuser: no grant can limit it'):
        call_command("database_service_role", owner)
    with pytest.raises(CommandError, match='Role "nobody_here" does not exist'):
        call_command("database_service_role", "nobody_here")
