"""Helpers shared by the suite: the one `charge` and one `refund` (through the real ingestion service)."""

import importlib
from datetime import UTC, datetime

import time_machine
from django.db import connection
from django.db.migrations.loader import MigrationLoader

from processor.models import Event
from processor.services import event_ingest
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


def finance_groups_ensure() -> None:
    """Make the finance groups again as their data migration did, after a `flush` (a transactional test's end).

    The migration runs on the models as they were at that migration, so the groups
    get exactly the permissions a migrated database has.
    """
    migration = importlib.import_module("payouts.migrations.0003_finance_groups")
    state = MigrationLoader(connection).project_state(("payouts", "0003_finance_groups"))
    migration.finance_groups_create(state.apps, None)
