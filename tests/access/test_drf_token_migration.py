"""Existing DRF tokens (plain text in authtoken_token) keep working once migrated, and their plain keys go."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from access.models import ApiToken
from tests.access.conftest import BALANCE, client_with
from tests.conftest import post_event
from tests.factories import EventPayloadFactory, UserFactory

DRF_KEY = "9944b09199c62bcf9418ad846dd0e4bbdfc6ee4b"  # a key as DRF made them: 40 hex digits

# The table as DRF's authtoken migrations leave it.
DRF_TOKEN_TABLE = """
CREATE TABLE authtoken_token (
    key varchar(40) PRIMARY KEY,
    created timestamptz NOT NULL,
    user_id integer NOT NULL UNIQUE REFERENCES auth_user (id) DEFERRABLE INITIALLY DEFERRED
)
"""


def migrate_access_to(name: str) -> None:
    executor = MigrationExecutor(connection)
    executor.migrate([("access", name)])


@pytest.fixture
def drf_token_table():
    with connection.cursor() as cursor:
        cursor.execute(DRF_TOKEN_TABLE)
    yield
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS authtoken_token")
    migrate_access_to("0002_drf_tokens_hashed")


@pytest.mark.django_db(transaction=True)
def test_a_drf_token_is_hashed_by_the_migration_and_its_holder_keeps_using_the_same_key(drf_token_table, client_anon):
    assert post_event(client_anon, EventPayloadFactory(event_id="evt_mig", restaurant_id="res_tok")).status_code == 201
    user = UserFactory(perms=["ledger.view_restaurantbalance"])
    migrate_access_to("0001_initial")  # as before this release: DRF's table holds the key in plain text
    with connection.cursor() as cursor:
        cursor.execute("INSERT INTO authtoken_token (key, created, user_id) VALUES (%s, now(), %s)",
                       [DRF_KEY, user.pk])

    migrate_access_to("0002_drf_tokens_hashed")

    assert client_with(DRF_KEY).get(BALANCE).status_code == 200
    token = ApiToken.objects.get(user=user)
    assert (token.name, token.prefix, token.revoked_at) == ("migrated", DRF_KEY[:12], None)
    assert token.key_hash != DRF_KEY
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM authtoken_token")
        assert cursor.fetchone() == (0,)  # no plain-text key is left behind
