"""API tokens: stored hashed, named, several per user, expiring, revocable, and their last use recorded."""

from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.utils import timezone

from access.keys import key_hash
from access.models import ApiToken
from access.services import ApiTokenNameTaken, api_token_create, api_token_revoke
from tests.access.conftest import BALANCE, LEDGER, client_with
from tests.conftest import assert_problem

pytestmark = pytest.mark.django_db


def test_the_database_holds_no_usable_key(restaurant, holder):
    created = api_token_create(user=holder, name="reporting")
    assert client_with(created.key).get(BALANCE).status_code == 200

    with connection.cursor() as cursor:  # everything a leaked backup would show of the token
        cursor.execute("SELECT * FROM access_apitoken WHERE id = %s", [created.token.pk])
        row = [str(value) for value in cursor.fetchone()]
    assert not any(created.key in value for value in row)
    assert created.token.key_hash == key_hash(created.key) != created.key
    assert created.token.prefix == created.key[:12] and len(created.key) == 48

    # What the row holds does not open the door, on either path.
    for leaked in (created.token.key_hash, created.token.prefix):
        assert_problem(client_with(leaked).get(BALANCE), 401, "authentication_failed")
        assert_problem(client_with(leaked).get(LEDGER), 401, "authentication_failed")


def test_a_user_holds_several_named_tokens_and_a_name_is_unique_among_the_live_ones(restaurant, holder):
    ci = api_token_create(user=holder, name="ci")
    reporting = api_token_create(user=holder, name="reporting")
    assert client_with(ci.key).get(BALANCE).status_code == 200
    assert client_with(reporting.key).get(LEDGER).status_code == 200

    with pytest.raises(ApiTokenNameTaken):
        api_token_create(user=holder, name="ci")
    assert ApiToken.objects.filter(user=holder).count() == 2

    api_token_revoke(user=holder, name="ci")
    replacement = api_token_create(user=holder, name="ci")
    assert client_with(replacement.key).get(BALANCE).status_code == 200
    assert_problem(client_with(ci.key).get(BALANCE), 401, "authentication_failed")
    assert client_with(reporting.key).get(BALANCE).status_code == 200  # revoking one leaves the others


def test_a_token_expires_after_the_default_ttl_on_both_paths(restaurant, holder, settings):
    settings.API_TOKEN_TTL_DAYS = 90
    created = api_token_create(user=holder)
    assert created.token.expires_at == created.token.created_at + timedelta(days=90)

    with time_machine.travel(created.token.expires_at - timedelta(seconds=1), tick=False):
        assert client_with(created.key).get(BALANCE).status_code == 200
        assert client_with(created.key).get(LEDGER).status_code == 200
    with time_machine.travel(created.token.expires_at, tick=False):
        body = assert_problem(client_with(created.key).get(BALANCE), 401, "authentication_failed")
        assert body["detail"] == "Token expired."
        assert_problem(client_with(created.key).get(LEDGER), 401, "authentication_failed")


def test_expires_in_sets_the_tokens_life(restaurant, holder):
    created = api_token_create(user=holder, expires_in_days=1)
    with time_machine.travel(timezone.now() + timedelta(days=1, seconds=1), tick=False):
        assert_problem(client_with(created.key).get(BALANCE), 401, "authentication_failed")


def test_a_revoked_token_is_refused_on_the_next_request_on_both_paths(restaurant, holder):
    created = api_token_create(user=holder, name="ci")
    client = client_with(created.key)
    assert client.get(BALANCE).status_code == 200
    assert client.get(LEDGER).status_code == 200

    api_token_revoke(user=holder, name="ci")

    body = assert_problem(client.get(BALANCE), 401, "authentication_failed")
    assert body["detail"] == "Token revoked."
    assert_problem(client.get(LEDGER), 401, "authentication_failed")
    assert ApiToken.objects.get(pk=created.token.pk).revoked_at is not None


@pytest.mark.parametrize("path", [BALANCE, LEDGER])
def test_last_used_at_is_recorded_at_most_every_five_minutes(restaurant, holder, path):
    created = api_token_create(user=holder)
    assert created.token.last_used_at is None
    start = timezone.now().replace(microsecond=0)

    def last_used_after_a_request_at(moment):
        with time_machine.travel(moment, tick=False):
            assert client_with(created.key).get(path).status_code == 200
        return ApiToken.objects.get(pk=created.token.pk).last_used_at

    assert last_used_after_a_request_at(start) == start
    assert last_used_after_a_request_at(start + timedelta(minutes=4)) == start  # not rewritten on every read
    assert last_used_after_a_request_at(start + timedelta(minutes=5)) == start + timedelta(minutes=5)


def test_a_refused_request_does_not_count_as_a_use(restaurant, holder):
    created = api_token_create(user=holder, name="ci")
    api_token_revoke(user=holder, name="ci")
    client_with(created.key).get(BALANCE)
    client_with(created.key).get(LEDGER)
    assert ApiToken.objects.get(pk=created.token.pk).last_used_at is None
