"""API tokens: one query per request, and nothing kept between requests, so changes take effect at once."""

import pytest
from django.contrib.auth.models import Group, Permission
from rest_framework.test import APIClient

from access.models import ApiToken
from access.services import api_token_create
from tests.conftest import assert_problem
from tests.factories import UserFactory

BALANCE = "/v1/restaurants/res_auth/balance"


@pytest.fixture
def restaurant(client_anon, event_payload):
    from tests.conftest import post_event

    assert post_event(client_anon, event_payload(event_id="evt_auth", restaurant_id="res_auth")).status_code == 201


def client_for(user) -> tuple[APIClient, ApiToken]:
    created = api_token_create(user=user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {created.key}")
    return client, created.token


@pytest.mark.django_db
def test_a_deleted_token_stops_working_on_the_next_request(restaurant):
    client, token = client_for(UserFactory(perms=["ledger.view_restaurantbalance"]))
    assert client.get(BALANCE).status_code == 200
    token.delete()
    assert_problem(client.get(BALANCE), 401, "authentication_failed")


@pytest.mark.django_db
def test_a_withdrawn_permission_and_a_deactivated_user_take_effect_at_once(restaurant):
    user = UserFactory(perms=["ledger.view_restaurantbalance"])
    client, _ = client_for(user)
    assert client.get(BALANCE).status_code == 200

    user.user_permissions.clear()
    assert_problem(client.get(BALANCE), 403, "permission_denied")

    user.user_permissions.add(Permission.objects.get(codename="view_restaurantbalance"))
    user.is_active = False
    user.save()
    assert_problem(client.get(BALANCE), 401, "authentication_failed")


@pytest.mark.django_db
def test_a_permission_held_through_a_group_is_enough(restaurant):
    group = Group.objects.create(name="Balance readers")
    group.permissions.add(Permission.objects.get(codename="view_restaurantbalance"))
    user = UserFactory()
    user.groups.add(group)
    client, _ = client_for(user)
    assert client.get(BALANCE).status_code == 200
