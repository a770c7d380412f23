import pytest

from ledger.models import Entry, Transaction
from processor.models import Event

pytestmark = pytest.mark.django_db


def test_first_post_returns_201_and_posts_one_balanced_transaction(post, event_payload):
    payload = event_payload(event_id="evt_smoke_1")
    response = post(payload)
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["event_id"] == "evt_smoke_1"
    assert body["amount"] == 12000
    assert Event.objects.count() == 1
    assert Transaction.objects.count() == 1
    assert sorted(Entry.objects.values_list("amount", flat=True)) == [-12000, -600, 600, 12000]


def test_resend_returns_200_with_original_body(post, event_payload):
    payload = event_payload(event_id="evt_smoke_2")
    first = post(payload)
    again = post(payload)
    assert again.status_code == 200
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert Transaction.objects.count() == 1
