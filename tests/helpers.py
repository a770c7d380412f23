"""Helpers shared by the suite: the one `charge` and one `refund` (through the real ingestion service)."""

from datetime import UTC, datetime

import time_machine
from django.db import connection
from django.db.migrations import RunPython
from django.db.migrations.executor import MigrationExecutor

from processor.ingestion import event_ingest
from processor.models import Event
from tests.factories import EventPayloadFactory, RefundPayloadFactory


def iso(moment: datetime) -> str:
    """An aware datetime as the processor writes it: UTC, with a Z."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _ingest(factory, *, at: datetime | str, received: datetime | None, **fields) -> Event:
    payload = factory(occurred_at=at if isinstance(at, str) else iso(at), **fields)
    if received is None:
        return event_ingest(payload=payload).event
    with time_machine.travel(received, tick=False):
        return event_ingest(payload=payload).event


def charge(*, amount: int, at: datetime | str, fee: int = 0, restaurant_id: str = "res_001", currency: str = "PEN",
           received: datetime | None = None, **fields) -> Event:
    """Record a charge_succeeded that occurred `at` (a datetime or an ISO-8601 string); returns the stored event.

    The service receives it now, or at `received` (the clock is moved there for the call).
    `fields` override the rest of the payload (`event_id`, `metadata`).
    """
    return _ingest(EventPayloadFactory, at=at, received=received, amount=amount, fee=fee,
                   restaurant_id=restaurant_id, currency=currency, **fields)


def refund(*, amount: int, at: datetime | str, fee: int = 0, restaurant_id: str = "res_001", currency: str = "PEN",
           received: datetime | None = None, **fields) -> Event:
    """Record a refund_succeeded of `amount`, of which the processor returned `fee`; as `charge` otherwise."""
    return _ingest(RefundPayloadFactory, at=at, received=received, amount=amount, fee=fee,
                   restaurant_id=restaurant_id, currency=currency, **fields)


PROJECT_APPS = ("processor", "ledger", "payouts", "audit", "reconciliation")


def migration_data_ensure() -> None:
    """Make again every row the project's data migrations made (finance groups, schedules), after a
    `flush` (a transactional test's end) emptied the tables.

    Each migration's RunPython runs on the models as they were at that migration, in the order
    `migrate` ran them, so the rows come back exactly as a migrated database has them.
    """
    executor = MigrationExecutor(connection)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes(), clean_start=True)
    with connection.schema_editor(atomic=False) as editor:
        for migration, _ in plan:
            if migration.app_label not in PROJECT_APPS:
                continue
            operations = [op for op in migration.operations if isinstance(op, RunPython)]
            if operations:
                state = executor.loader.project_state((migration.app_label, migration.name))
                for operation in operations:
                    operation.code(state.apps, editor)


def net_of(event: dict) -> int:
    """What a charge or refund payload moves into its restaurant's payable balance (amount less fee, or back)."""
    if event["event_type"] == "charge_succeeded":
        return event["amount"] - event["fee"]
    return -event["amount"] + event["fee"]
