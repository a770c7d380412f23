from datetime import UTC, datetime

import pytest
import time_machine

T0 = datetime(2025, 12, 30, 10, 0, tzinfo=UTC)


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
