from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from processor.services import event_ingest
from tests.factories import EventPayloadFactory, RefundPayloadFactory

T0 = datetime(2025, 12, 30, 10, 0, tzinfo=UTC)


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def ingest(factory=EventPayloadFactory, *, at: datetime, received: datetime | None = None, **fields):
    """Record one event through the ingestion service, delivered shortly after it occurred."""
    payload = factory(occurred_at=iso(at), **fields)
    with time_machine.travel(received or at + timedelta(seconds=30), tick=False):
        return event_ingest(payload=payload)


def charge(*, at: datetime, amount: int, fee: int = 0, restaurant_id: str = "res_001", currency: str = "PEN", **kw):
    return ingest(at=at, amount=amount, fee=fee, restaurant_id=restaurant_id, currency=currency, **kw)


def refund(*, at: datetime, amount: int, fee: int = 0, restaurant_id: str = "res_001", currency: str = "PEN", **kw):
    return ingest(RefundPayloadFactory, at=at, amount=amount, fee=fee, restaurant_id=restaurant_id,
                  currency=currency, **kw)


@pytest.fixture
def balance_at(reader):
    """GET the balance endpoint with the clock at `moment`; returns the JSON body."""

    def _get(moment: datetime, restaurant_id: str = "res_001", currency: str | None = None) -> dict:
        query = f"?currency={currency}" if currency else ""
        with time_machine.travel(moment, tick=False):
            response = reader.get(f"/v1/restaurants/{restaurant_id}/balance{query}")
        assert response.status_code == 200, response.content
        return response.json()

    return _get
