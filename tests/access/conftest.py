import pytest
from rest_framework.test import APIClient

from tests.conftest import post_event

BALANCE = "/v1/restaurants/res_tok/balance?currency=PEN"  # answered by the fast path (one statement)
LEDGER = "/v1/restaurants/res_tok/ledger?currency=PEN"  # answered by the full DRF view


@pytest.fixture
def restaurant(client_anon, event_payload):
    assert post_event(client_anon, event_payload(event_id="evt_tok", restaurant_id="res_tok")).status_code == 201


@pytest.fixture
def holder(api_user):
    return api_user("ledger.view_restaurantbalance", "ledger.view_entry")


def client_with(key: str, *, address: str = "127.0.0.1") -> APIClient:
    client = APIClient(REMOTE_ADDR=address)
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client
