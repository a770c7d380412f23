"""manage.py api_token_create and api_token_revoke, as an operator runs them."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from access.models import ApiToken
from tests.access.conftest import BALANCE, LEDGER, client_with
from tests.conftest import assert_problem

pytestmark = pytest.mark.django_db


def run(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_create_prints_the_key_alone_on_its_last_line_and_the_key_works(restaurant, holder):
    output = run("api_token_create", holder.username, "--name", "reporting", "--expires-in", "30")
    key = output.splitlines()[-1]
    assert key.startswith("m247_") and " " not in key and len(key) == 48
    assert client_with(key).get(BALANCE).status_code == 200

    token = ApiToken.objects.get(user=holder, name="reporting")
    assert (token.expires_at - token.created_at).days == 30
    assert key not in str(ApiToken.objects.filter(pk=token.pk).values().get())


def test_revoke_by_command_stops_the_token_on_the_next_request(restaurant, holder):
    key = run("api_token_create", holder.username, "--name", "ci").splitlines()[-1]
    client = client_with(key)
    assert client.get(LEDGER).status_code == 200

    assert "Revoked API token 'ci'" in run("api_token_revoke", holder.username, "--name", "ci")

    assert_problem(client.get(LEDGER), 401, "authentication_failed")
    assert_problem(client.get(BALANCE), 401, "authentication_failed")


def test_the_commands_refuse_bad_input_and_write_nothing(holder):
    run("api_token_create", holder.username, "--name", "ci")
    with pytest.raises(CommandError, match="No user 'nobody'"):
        run("api_token_create", "nobody")
    with pytest.raises(CommandError, match="already has a live token named 'ci'"):
        run("api_token_create", holder.username, "--name", "ci")
    with pytest.raises(CommandError, match="at least one day"):
        run("api_token_create", holder.username, "--name", "short", "--expires-in", "0")
    with pytest.raises(CommandError, match="no live token named 'other'"):
        run("api_token_revoke", holder.username, "--name", "other")
    assert list(ApiToken.objects.values_list("name", "revoked_at")) == [("ci", None)]
