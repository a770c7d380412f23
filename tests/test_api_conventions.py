"""SPEC §6: one error shape, auth, health probes, request ids, JSON logs, OpenAPI."""

import io
import json
import logging
import re

import pytest
from django.db import connection
from django.test import Client, RequestFactory
from pythonjsonlogger.json import JsonFormatter
from rest_framework.test import APIClient

from mesa247 import errors
from tests.conftest import assert_problem
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

BALANCE = "/v1/restaurants/res_001/balance"


@pytest.fixture
def restaurant(post, event_payload):
    assert post(event_payload(event_id="evt_conv_1")).status_code == 201


# --- errors ----------------------------------------------------------------------


@pytest.mark.parametrize("method", ["get", "post", "put", "delete"])
def test_unknown_v1_path_is_a_json_404_for_any_method(method):
    # A real browser-like client: CSRF is enforced, as for a POST from curl.
    client = Client(enforce_csrf_checks=True)
    response = getattr(client, method)("/v1/nothing/here")
    body = assert_problem(response, 404, "not_found")
    assert body["detail"] == "No endpoint at /v1/nothing/here."


def test_restaurant_id_that_cannot_exist_is_a_json_404(reader):
    assert_problem(reader.get("/v1/restaurants/res%20001/balance"), 404, "not_found")


def test_unknown_restaurant_is_a_json_404(reader):
    assert_problem(reader.get("/v1/restaurants/res_nobody/balance"), 404, "restaurant_not_found")


def test_wrong_method_is_a_json_405(reader, restaurant):
    body = assert_problem(reader.post(BALANCE, {}, format="json"), 405, "method_not_allowed")
    assert body["detail"] == 'Method "POST" not allowed.'


def test_host_not_allowed_is_a_json_400_under_v1(reader):
    response = reader.get(BALANCE, HTTP_HOST="evil.example")
    assert_problem(response, 400, "bad_request")


@pytest.mark.parametrize(
    "handler, status, code",
    [(errors.handler400, 400, "bad_request"), (errors.handler403, 403, "permission_denied"),
     (errors.handler404, 404, "not_found"), (errors.handler500, 500, "internal_error")],
)
def test_django_error_pages_are_problems_under_v1_and_html_elsewhere(handler, status, code):
    request = RequestFactory().get("/v1/restaurants/res_001/balance")
    response = handler(request) if handler is errors.handler500 else handler(request, Exception("refused"))
    assert response.status_code == status
    assert response["Content-Type"] == "application/problem+json"
    body = json.loads(response.content)
    assert body["code"] == code and body["status"] == status and body["title"] and body["detail"]

    elsewhere = RequestFactory().get("/admin/")
    response = handler(elsewhere) if handler is errors.handler500 else handler(elsewhere, Exception("refused"))
    assert response.status_code == status
    assert response["Content-Type"].startswith("text/html")


@pytest.mark.parametrize("path", ["token, one statement", "full API view"])
def test_unhandled_error_is_a_json_500_and_is_logged(path, reader, api_user, restaurant, monkeypatch, caplog):
    def explode(**kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr("ledger.apis.balance_get_as_token_holder", explode)
    monkeypatch.setattr("ledger.apis.balance_get", explode)
    client = reader
    if path == "full API view":  # no token header: the DRF view answers
        client = APIClient(raise_request_exception=False)
        client.force_authenticate(api_user("ledger.view_restaurantbalance"))
    response = client.get(BALANCE)

    body = assert_problem(response, 500, "internal_error")
    assert "boom" not in json.dumps(body)  # internals stay in the log
    assert "RuntimeError: boom" in caplog.text


def test_a_body_over_the_upload_limit_is_a_json_413_not_a_crash(token_client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    client = token_client("payouts.add_payoutrun")
    body = {"currency": "PEN", "as_of": "2025-12-30", "min_amount": 5000, "note": "x" * 2048}
    response = client.post("/v1/payouts/run", body, format="json")
    assert_problem(response, 413, "payload_too_large")


def test_json_nested_too_deeply_is_a_400_not_a_crash(token_client):
    client = token_client("payouts.add_payoutrun")
    body = b"[" * 100_000 + b"]" * 100_000
    response = client.post("/v1/payouts/run", body, content_type="application/json")
    assert_problem(response, 400, "malformed_json")


# --- query parameters ------------------------------------------------------------------

_VALID_QUERY_VALUES = {"cursor": "0n", "page_size": "1", "from": "2025-12-01", "to": "2025-12-31",
                       "as_of": "2025-12-30", "restaurant_id": "res_001", "actor": "mario.manager",
                       "object_type": "payouts.payoutrun", "object_id": "1", "occurred_after": "2025-12-01T00:00:00Z",
                       "occurred_before": "2025-12-31T00:00:00Z", "report_id": "stl_1"}


def query_operations(client):
    """Every GET under /v1/ with query parameters, as (path, {name: a value the schema allows})."""
    for name, operation in v1_operations(client):
        method, path = name.split(" ", 1)
        query = [parameter for parameter in operation.get("parameters", []) if parameter["in"] == "query"]
        if method == "GET" and query:
            values = {parameter["name"]: parameter["schema"].get("enum", [None])[0]
                      or _VALID_QUERY_VALUES[parameter["name"]] for parameter in query}
            yield path.replace("{restaurant_id}", "res_001"), values


def test_every_query_parameter_given_twice_is_400_naming_it(client, restaurant):
    reader = APIClient()
    reader.force_authenticate(UserFactory(is_superuser=True))
    checked = []
    for path, values in query_operations(client):
        assert reader.get(path, values).status_code == 200, (path, values)  # each once: a valid query
        for name, value in values.items():
            response = reader.get(path, {**values, name: [value, value]})
            body = assert_problem(response, 400, "validation_error")
            assert body["errors"] == {name: ["Give this parameter once."]}, (path, name)
            checked.append(f"{path}?{name}")
    assert len(checked) >= 12  # the ledger listing, statement, payouts and adjustments lists at least


# --- authentication and permissions ---------------------------------------------------


def test_no_credentials_is_401_with_a_token_challenge(restaurant):
    response = APIClient().get(BALANCE)
    body = assert_problem(response, 401, "not_authenticated")
    assert body["detail"] == "Authentication credentials were not provided."
    assert response["WWW-Authenticate"] == "Token"


def test_bad_token_is_401():
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    assert_problem(client.get(BALANCE), 401, "authentication_failed")


def test_token_without_the_view_permission_is_403(token_client, restaurant):
    client = token_client("ledger.view_entry")
    body = assert_problem(client.get(BALANCE), 403, "permission_denied")
    assert body["detail"] == "This needs the permission(s): ledger.view_restaurantbalance."


def test_token_with_the_view_permission_reads_the_balance(reader, restaurant):
    assert reader.get(BALANCE).status_code == 200


def test_admin_session_works(restaurant):
    client = Client(enforce_csrf_checks=True)
    client.force_login(UserFactory(perms=["ledger.view_restaurantbalance"]))
    response = client.get(BALANCE)
    assert response.status_code == 200
    assert response.json()["restaurant_id"] == "res_001"


def test_session_without_the_permission_is_403(restaurant):
    client = Client()
    client.force_login(UserFactory())
    assert_problem(client.get(BALANCE), 403, "permission_denied")


def test_superuser_session_may_read(restaurant):
    client = Client()
    client.force_login(UserFactory(is_superuser=True, is_staff=True))
    assert client.get(BALANCE).status_code == 200


# --- health ------------------------------------------------------------------------------


def test_healthz_is_200(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_is_200_when_the_database_is_migrated(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "migrations": "applied"}


def test_readyz_is_503_when_a_migration_is_not_applied(client):
    with connection.cursor() as cursor:
        # Rolled back with the test: the migration history forgets the last ledger migration.
        cursor.execute(
            "DELETE FROM django_migrations WHERE app = 'ledger' AND name = "
            "(SELECT MAX(name) FROM django_migrations WHERE app = 'ledger')"
        )
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "database": "ok", "migrations": "1 unapplied"}


@pytest.mark.django_db(transaction=True)
def test_readyz_is_503_when_the_database_is_unreachable(client, caplog):
    connection.close()
    saved = connection.settings_dict.copy()
    connection.settings_dict.update(HOST="127.0.0.1", PORT="1")  # nothing listens there
    try:
        response = client.get("/readyz")
    finally:
        connection.close()
        connection.settings_dict.update(saved)
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "database": "unreachable"}
    assert "database unreachable" in caplog.text


# --- request ids and logs ----------------------------------------------------------------


def test_request_id_is_echoed(client):
    response = client.get("/healthz", HTTP_X_REQUEST_ID="req-abc.123")
    assert response["X-Request-ID"] == "req-abc.123"


def test_request_id_is_generated_when_absent_or_unsafe(client):
    generated = client.get("/healthz")["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", generated)
    replaced = client.get("/healthz", HTTP_X_REQUEST_ID="bad id\nwith newline")["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", replaced)


def test_error_responses_carry_the_request_id_too(client):
    assert client.get("/v1/nope", HTTP_X_REQUEST_ID="req-404")["X-Request-ID"] == "req-404"


@pytest.fixture
def log_lines():
    """What the JSON handler writes to stdout, one parsed object per line."""
    root = logging.getLogger()
    handler = next(h for h in root.handlers if isinstance(h.formatter, JsonFormatter))
    stream = io.StringIO()
    previous_stream, previous_level = handler.setStream(stream), root.level
    root.setLevel(logging.INFO)
    try:
        yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    finally:
        handler.setStream(previous_stream)
        root.setLevel(previous_level)


def test_log_lines_are_json_with_request_id_and_event_id(post, event_payload, log_lines):
    from tests.conftest import post_event

    payload = event_payload(event_id="evt_logged", restaurant_id="res_log")
    client = APIClient()
    post_event(client, payload)
    client.generic("GET", "/healthz", HTTP_X_REQUEST_ID="req-health")

    lines = log_lines()
    recorded = next(line for line in lines if line["message"] == "event recorded")
    assert recorded["event_id"] == "evt_logged"
    assert recorded["restaurant_id"] == "res_log"
    assert recorded["level"] == "INFO"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", recorded["time"])
    assert re.fullmatch(r"[0-9a-f]{32}", recorded["request_id"])
    request_line = next(line for line in lines if line["message"] == "request" and line["path"] == "/healthz")
    assert request_line["request_id"] == "req-health"
    assert request_line["status"] == 200
    # Every line is one JSON object, and lines of one request share its id.
    ingest_lines = [line for line in lines if line.get("request_id") == recorded["request_id"]]
    assert {line["message"] for line in ingest_lines} >= {"event recorded", "request"}


# --- OpenAPI ---------------------------------------------------------------------------------


def test_openapi_schema_is_served(client):
    response = client.get("/api/schema/?format=json")
    assert response.status_code == 200
    schema = json.loads(response.content)
    assert schema["openapi"].startswith("3.")
    for path in ("/v1/processor/events", "/v1/processor/events/batch", "/v1/restaurants/{restaurant_id}/balance",
                 "/v1/restaurants/{restaurant_id}/balances", "/v1/restaurants/{restaurant_id}/ledger"):
        assert path in schema["paths"], path
    ingest = schema["paths"]["/v1/processor/events"]["post"]
    assert set(ingest["responses"]) >= {"200", "201", "400", "401", "409", "413", "415", "422"}


def test_swagger_ui_uses_local_assets_only(client):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "cdn" not in html.lower() and "unpkg" not in html and "jsdelivr" not in html
    assets = re.findall(r'(?:src|href)="(/static/drf_spectacular_sidecar/[^"]+)"', html)
    assert any(asset.endswith("swagger-ui-bundle.js") for asset in assets)
    for asset in assets:
        assert client.get(asset).status_code == 200, asset


def v1_operations(client):
    schema = json.loads(client.get("/api/schema/?format=json").content)
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            if path.startswith("/v1/") and isinstance(operation, dict) and "responses" in operation:
                yield f"{method.upper()} {path}", operation


def test_every_v1_response_and_request_body_has_an_example(client):
    missing = []
    for name, operation in v1_operations(client):
        for status, response in operation["responses"].items():
            if not any(media.get("examples") for media in response.get("content", {}).values()):
                missing.append(f"{name} {status}")
        body = operation.get("requestBody", {}).get("content", {})
        if body and not any(media.get("examples") for media in body.values()):
            missing.append(f"{name} request")
    assert missing == []


def test_every_authenticated_v1_endpoint_documents_401_and_403_and_every_body_413(client):
    missing = []
    for name, operation in v1_operations(client):
        codes = set(operation["responses"])
        if not name.startswith("POST /v1/processor/") and not codes >= {"401", "403"}:
            missing.append(f"{name} 401/403")
        if name.startswith("POST") and "413" not in codes:
            missing.append(f"{name} 413")
    assert missing == []
