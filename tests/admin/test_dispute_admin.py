"""Disputes in the admin: open ones first, each with its events and postings; on the restaurant's balance page."""

import pytest

from ledger.models import RestaurantBalance
from processor.models import Dispute
from tests.processor.test_disputes import lost, opened, won

pytestmark = pytest.mark.django_db


@pytest.fixture
def disputes(post):
    for payload in (opened(event_id="e1", dispute_id="dp_won"), won(event_id="e2", dispute_id="dp_won", amount=10000),
                    opened(event_id="e3", dispute_id="dp_open", amount=700, fee=0),
                    opened(event_id="e4", dispute_id="dp_lost", amount=900, fee=100),
                    lost(event_id="e5", dispute_id="dp_lost", amount=900)):
        assert post(payload).status_code == 201


def test_the_list_shows_open_disputes_first(disputes, viewer_client):
    page = viewer_client.get("/admin/processor/dispute/").content.decode()

    assert page.index("dp_open") < page.index("dp_lost") < page.index("dp_won")


def test_a_dispute_shows_its_events_and_postings(disputes, viewer_client):
    won_page = viewer_client.get(f"/admin/processor/dispute/{Dispute.objects.get(dispute_id='dp_won').pk}/change/")
    lost_page = viewer_client.get(f"/admin/processor/dispute/{Dispute.objects.get(dispute_id='dp_lost').pk}/change/")

    assert won_page.status_code == 200
    text = won_page.content.decode()
    assert "e1</a> · dispute_opened" in text and "e2</a> · dispute_won" in text
    assert text.count("· dispute ·") == 4  # amount and fee withdrawn: payable and processor each
    assert text.count("· dispute_reversal ·") == 2  # the amount reinstated; no fee returned
    assert "None (a lost dispute moves no money)." not in text
    assert "e5</a> · dispute_lost" in lost_page.content.decode()


def test_the_balance_page_shows_the_restaurants_disputes(disputes, viewer_client):
    balance = RestaurantBalance.objects.get(restaurant_id="res_dp", currency="PEN")

    page = viewer_client.get(f"/admin/ledger/restaurantbalance/{balance.pk}/change/").content.decode()

    assert "dp_open</a> open: PEN 7.00 + fee PEN 0.00" in page
    assert "dp_won</a> won: PEN 100.00 + fee PEN 15.00" in page
    assert page.index("dp_open") < page.index("dp_won")
