"""API tokens in the admin: listed without hashes, created with the key shown once, revoked by an action."""

import re

import pytest
from rest_framework.test import APIClient

from access.models import ApiToken
from access.services import api_token_create
from tests.conftest import assert_problem
from tests.factories import UserFactory

CHANGELIST = "/admin/access/apitoken/"
LEDGER = "/v1/restaurants/res_none/ledger"


def works(key: str) -> bool:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client.get(LEDGER).status_code != 401


@pytest.mark.django_db
def test_the_list_shows_prefix_name_user_and_times_and_never_a_hash(superuser_client):
    created = api_token_create(user=UserFactory(username="reporting-bot"), name="reporting")
    page = superuser_client.get(CHANGELIST).content.decode()
    for shown in (created.token.prefix, "reporting", "reporting-bot", "Expires at", "Last used at", "Revoked at"):
        assert shown in page
    assert created.token.key_hash not in page and created.key not in page

    detail = superuser_client.get(f"{CHANGELIST}{created.token.pk}/change/").content.decode()
    assert created.token.prefix in detail and created.token.key_hash not in detail


@pytest.mark.django_db
def test_adding_a_token_shows_its_key_once_and_the_key_works(superuser_client):
    user = UserFactory(perms=["ledger.view_entry"])
    response = superuser_client.post(f"{CHANGELIST}add/", {"user": user.pk, "name": "ci", "expires_in_days": "7"})
    assert response.status_code == 302
    assert response["Location"] == CHANGELIST
    key = re.search(r"(m247_[A-Za-z0-9_-]{43}) — copy it now", superuser_client.get(CHANGELIST).content.decode())[1]
    token = ApiToken.objects.get(user=user, name="ci")
    assert (token.expires_at - token.created_at).days == 7
    assert works(key)
    assert key not in superuser_client.get(CHANGELIST).content.decode()  # shown once only

    again = superuser_client.post(f"{CHANGELIST}add/", {"user": user.pk, "name": "ci"})
    assert again.status_code == 200 and b"already has a live token with this name" in again.content
    assert ApiToken.objects.filter(user=user).count() == 1


@pytest.mark.django_db
def test_the_revoke_action_stops_the_token_on_the_next_request(superuser_client):
    created = api_token_create(user=UserFactory(perms=["ledger.view_entry"]), name="ci")
    assert works(created.key)
    response = superuser_client.post(CHANGELIST, {"action": "revoke_selected", "_selected_action": [created.token.pk]})
    assert response.status_code == 302
    assert ApiToken.objects.get(pk=created.token.pk).revoked_at is not None
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {created.key}")
    assert_problem(client.get(LEDGER), 401, "authentication_failed")
