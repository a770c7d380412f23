"""The hot paths' round trips, counted: what a signed event and a balance read cost the database.

Each figure is the number of SQL statements Django sends, BEGIN and COMMIT included, on a
database that commits, as in production: the accounts a committed posting saw are kept in memory.
A change that adds a query to these paths has to change these budgets on purpose.
"""

import pytest

from tests.conftest import post_event
from tests.factories import EventPayloadFactory


@pytest.mark.django_db(transaction=True)
def test_a_new_charge_for_a_known_restaurant_costs_four_round_trips(client_anon, django_assert_num_queries):
    post_event(client_anon, EventPayloadFactory(event_id="evt_warm", restaurant_id="res_hot"))

    # BEGIN; INSERT the event; one statement for the transaction, its entries and the balance; COMMIT.
    with django_assert_num_queries(4):
        response = post_event(client_anon, EventPayloadFactory(event_id="evt_hot", restaurant_id="res_hot"))
    assert response.status_code == 201, response.content


@pytest.mark.django_db(transaction=True)
def test_a_replayed_event_costs_four_round_trips(client_anon, django_assert_num_queries):
    payload = EventPayloadFactory(event_id="evt_again", restaurant_id="res_hot")
    assert post_event(client_anon, payload).status_code == 201

    # BEGIN; the INSERT the unique index refuses; ROLLBACK; the stored event with its transaction.
    with django_assert_num_queries(4):
        response = post_event(client_anon, payload)
    assert response.status_code == 200


@pytest.mark.django_db(transaction=True)
def test_a_new_restaurants_first_charge_costs_five_round_trips(client_anon, django_assert_num_queries):
    # BEGIN; INSERT the event; one statement for the restaurant, its accounts and balance row; the posting; COMMIT.
    with django_assert_num_queries(5):
        response = post_event(client_anon, EventPayloadFactory(event_id="evt_new", restaurant_id="res_new"))
    assert response.status_code == 201, response.content


@pytest.mark.django_db(transaction=True)
def test_a_balance_read_costs_one_round_trip(client_anon, reader, django_assert_num_queries):
    post_event(client_anon, EventPayloadFactory(event_id="evt_read", restaurant_id="res_hot"))

    with django_assert_num_queries(1):  # token, user, permission, restaurant, projection and pending at once
        response = reader.get("/v1/restaurants/res_hot/balance?currency=PEN")
    assert response.status_code == 200
    assert response.json()["available"] == 12000 - 600
