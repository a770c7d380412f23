"""The floor `make bench` measures the service against (bench/floor.py) runs the hot endpoints' own
statements: it must keep answering what the service answers, or its figures mean nothing."""

import json

import pytest
from django.test import override_settings

from access.services import api_token_create
from ledger.selectors import balance_get
from processor.models import Event
from tests.factories import EventPayloadFactory


@pytest.fixture
def floor_client(client):
    with override_settings(ROOT_URLCONF="bench.floor", MIDDLEWARE=[]):
        yield client


@pytest.mark.django_db
def test_the_floor_records_an_event_once_and_reads_the_balance_the_service_reads(floor_client, api_user):
    payload = EventPayloadFactory(event_id="evt_floor", restaurant_id="res_floor")
    body = json.dumps(payload)

    first = floor_client.post("/v1/processor/events", body, content_type="application/json")
    again = floor_client.post("/v1/processor/events", body, content_type="application/json")
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["ledger_transaction_id"] == again.json()["ledger_transaction_id"]
    assert Event.objects.filter(event_id="evt_floor").count() == 1

    key = api_token_create(user=api_user("ledger.view_restaurantbalance")).key
    read = floor_client.get("/v1/restaurants/res_floor/balance?currency=PEN", HTTP_AUTHORIZATION=f"Token {key}")
    assert read.status_code == 200
    expected = balance_get(restaurant_id="res_floor", currency="PEN")
    assert (read.json()["available"], read.json()["pending"]) == (expected.available, expected.pending) == (11400, 0)
