import json
import os
import time
from urllib.parse import quote

import psycopg
import pytest
from django.conf import settings
from django.db import connection
from rest_framework.test import APIClient

from access.services import api_token_create
from ledger.services import accounts_forget
from processor.signature import signature_header
from tests.factories import EventPayloadFactory, UserFactory

SECRET = "whsec_test_current"
OLD_SECRET = "whsec_test_previous"


def pytest_sessionstart(session):
    """Fail at once, and say why, when the PostgreSQL named by DATABASE_URL is not there."""
    url = settings.DATABASE_URL
    try:
        psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", connect_timeout=5).close()
    except psycopg.OperationalError as exc:
        pytest.exit(
            f"PostgreSQL is unreachable at {url}: {exc}\n"
            "Start it, or unset DATABASE_URL to run on the checkout's embedded PostgreSQL.",
            returncode=3,
        )


def machine_service_missing(what: str):
    """A drill needs more than Python (a browser, a Redis server): CI installs both and sets
    MESA247_TEST_REQUIRE_ALL=1, where their absence fails the suite; on a fresh clone with nothing
    but Python the drill is skipped and says what to install."""
    if os.environ.get("MESA247_TEST_REQUIRE_ALL") == "1":
        pytest.fail(f"{what} (.ci/run installs it).")
    pytest.skip(f"{what}: install it to run this drill (CI always does).")


def database_url(name: str) -> str:
    """The URL of database `name` on the server the tests use, for a subprocess (a socket path is percent-encoded)."""
    database = connection.settings_dict
    host = quote(database["HOST"] or "127.0.0.1", safe="")
    port = f":{database['PORT']}" if database["PORT"] else ""
    return f"postgres://{database['USER'] or 'postgres'}@{host}{port}/{name}"


@pytest.fixture(autouse=True)
def _forget_ledger_accounts():
    """Accounts are kept in memory once committed; a test that commits, then empties the database, drops them."""
    yield
    accounts_forget()


@pytest.fixture
def secrets_configured():
    assert settings.PROCESSOR_WEBHOOK_SECRETS == [SECRET, OLD_SECRET]


def sign(body: bytes, *, secret: str = SECRET, timestamp: int | None = None) -> str:
    return signature_header(secret=secret, body=body, timestamp=timestamp)


@pytest.fixture
def client_anon():
    return APIClient()


def post_event(client, payload, *, path="/v1/processor/events", secret=SECRET, timestamp=None,
               content_type="application/json", signature=None, raw: bytes | None = None):
    """POST a signed event the way the processor does: raw bytes, signed over exactly those bytes."""
    body = raw if raw is not None else json.dumps(payload).encode()
    headers = {}
    if signature is None:
        signature = sign(body, secret=secret, timestamp=timestamp)
    if signature is not False:
        headers["X-Mesa-Signature"] = signature
    return client.generic("POST", path, data=body, content_type=content_type, headers=headers)


def problem_body(status: int, code: str, title: str, detail: str, **extra) -> dict:
    """The exact problem JSON (RFC 9457) the API answers for an error."""
    return {"type": f"urn:mesa247:problem:{code}", "title": title, "status": status, "code": code, "detail": detail,
            **extra}


def assert_problem(response, status: int, code: str) -> dict:
    """The response is a problem of this status and code, with a title and a detail; its body, for more checks."""
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == status
    assert body["code"] == code
    assert body["type"] == f"urn:mesa247:problem:{code}"
    assert body["title"] and body["detail"]
    return body


@pytest.fixture
def post(client_anon):
    def _post(payload=None, **kwargs):
        return post_event(client_anon, payload, **kwargs)

    return _post


@pytest.fixture
def event_payload():
    return EventPayloadFactory


@pytest.fixture
def api_user(db):
    def _make(*perms):
        return UserFactory(perms=list(perms))

    return _make


@pytest.fixture
def token_client(api_user):
    """An API client authenticated by an API token whose user holds the given permissions."""

    def _make(*perms):
        return token_client_for(api_user(*perms))

    return _make


def token_client_for(user) -> APIClient:
    """An API client sending a new API token of `user`."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {api_token_create(user=user).key}")
    return client


@pytest.fixture
def reader(token_client):
    return token_client("ledger.view_restaurantbalance", "ledger.view_entry")


@pytest.fixture
def now_ts():
    return int(time.time())
