"""The hot endpoints' quick answers (mesa247.fast_path) say exactly what the full API views say.

A balance read with a token and an event with a plain JSON body are answered without DRF's
request machinery; everything else is handed to the DRF view. Both must give the same status,
headers and bytes, and the hand-over must cover every case the quick answer does not.
"""

import json
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from rest_framework.test import APIClient

from tests.conftest import assert_problem, post_event, sign
from tests.factories import EventPayloadFactory
from tests.processes import terminate_backend, wait_for

BALANCE = "/v1/restaurants/res_fast/balance"


@pytest.fixture
def restaurant(client_anon):
    recent = (datetime.now(UTC) - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    for n, at in enumerate(("2025-12-01T10:00:00Z", recent)):  # one matured, one pending
        payload = EventPayloadFactory(event_id=f"evt_fast_{n}", restaurant_id="res_fast", occurred_at=at)
        assert post_event(client_anon, payload).status_code == 201


def full_view_client(api_user) -> APIClient:
    """No token header: the DRF view answers, with the same user standing behind it."""
    client = APIClient()
    client.force_authenticate(api_user("ledger.view_restaurantbalance"))
    return client


@pytest.mark.django_db
@pytest.mark.parametrize("query", ["", "?currency=PEN", "?currency=USD"])
def test_a_balance_read_answers_the_same_bytes_and_headers_in_one_statement_as_the_full_view(
        query, restaurant, reader, api_user, django_assert_num_queries):
    with django_assert_num_queries(1):
        quick = reader.get(BALANCE + query)
    full = full_view_client(api_user).get(BALANCE + query)

    assert quick.status_code == full.status_code == 200
    assert quick.content == full.content
    for header in ("Content-Type", "Allow"):
        assert quick[header] == full[header]
    if query != "?currency=USD":
        assert json.loads(quick.content)["pending"] > 0 and json.loads(quick.content)["available"] > 0


@pytest.mark.django_db
@pytest.mark.parametrize(("query", "headers", "status", "code"), [
    ("?currency=EUR", {}, 400, "validation_error"),
    ("?currency=PEN&currency=USD", {}, 400, "validation_error"),  # a parameter given twice
    ("?currency=PEN&page=2", {}, 200, None),
    ("", {"HTTP_ACCEPT": "text/html"}, 406, "not_acceptable"),
    ("", {"HTTP_AUTHORIZATION": "Token not-a-token"}, 401, "authentication_failed"),
    ("", {"HTTP_AUTHORIZATION": "Token"}, 401, "authentication_failed"),
    ("", {"HTTP_AUTHORIZATION": "Token\xa0key"}, 401, "not_authenticated"),
])
def test_what_the_quick_answer_does_not_cover_the_full_view_answers(query, headers, status, code, restaurant, reader):
    if "HTTP_AUTHORIZATION" in headers:
        reader = APIClient()  # without the reader's own token, which would win over the header
    response = reader.get(BALANCE + query, **headers)
    if code:
        assert_problem(response, status, code)
    else:
        assert response.status_code == status


@pytest.mark.django_db
def test_an_unknown_restaurant_and_a_missing_permission_are_the_full_views_404_and_403(token_client, reader):
    assert_problem(reader.get("/v1/restaurants/res_none/balance"), 404, "restaurant_not_found")
    assert_problem(token_client("ledger.view_entry").get(BALANCE), 403, "permission_denied")


@pytest.mark.django_db
def test_a_head_request_is_answered_by_the_full_view(restaurant, reader):
    response = reader.head(BALANCE)
    assert response.status_code == 200 and response.content == b""


@pytest.mark.django_db
def test_an_event_answers_the_same_body_quickly_as_the_full_view(client_anon):
    payload = EventPayloadFactory(event_id="evt_same", restaurant_id="res_same")
    quick = post_event(client_anon, payload)
    # An Accept header DRF's negotiation must read: the full view answers the resend.
    full = client_anon.post("/v1/processor/events", json.dumps(payload).encode(), content_type="application/json",
                            HTTP_ACCEPT="application/json; q=0.9",
                            HTTP_X_MESA_SIGNATURE=quick.wsgi_request.headers["X-Mesa-Signature"])

    assert (quick.status_code, full.status_code) == (201, 200)
    assert quick.json() == full.json()
    assert full["Idempotent-Replayed"] == "true" and "Idempotent-Replayed" not in quick
    assert quick["Allow"] == full["Allow"] == "POST, OPTIONS"
    assert quick["Content-Type"] == full["Content-Type"] == "application/json"
    resent = post_event(client_anon, payload)
    assert (resent.status_code, resent.content, resent["Idempotent-Replayed"]) == (200, full.content, "true")


@pytest.mark.django_db
def test_a_bad_event_is_the_same_problem_quickly_as_from_the_full_view(client_anon):
    payload = EventPayloadFactory(event_id="evt_bad", amount="12.00")
    quick = post_event(client_anon, payload)
    body = json.dumps(payload).encode()
    full = client_anon.post("/v1/processor/events", body, content_type="application/json",
                            HTTP_ACCEPT="application/json; q=0.9", HTTP_X_MESA_SIGNATURE=sign(body))
    assert assert_problem(quick, 400, "validation_error") == assert_problem(full, 400, "validation_error")
    assert quick.content == full.content


@pytest.mark.django_db(transaction=True)
def test_a_connection_the_server_ended_between_requests_is_replaced_before_it_is_used():
    """The health check asks the socket: a backend terminated while the connection sat idle is
    seen and replaced at the next request's first query, which then succeeds."""
    connection.ensure_connection()
    assert connection.is_usable()
    ended = connection.connection.info.backend_pid
    terminate_backend(ended)
    wait_for(lambda: not connection.is_usable() or None, what="the socket to show the connection ended")

    connection.close_if_unusable_or_obsolete()  # as at the start of every request
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        assert cursor.fetchone()[0] != ended
    assert connection.is_usable()


@pytest.mark.django_db
def test_a_signed_in_browser_session_still_reads_the_api_through_the_session_middleware(restaurant, api_user, client):
    client.force_login(api_user("ledger.view_restaurantbalance"))
    response = client.get(BALANCE)
    assert response.status_code == 200
    assert response.json()["restaurant_id"] == "res_fast"
    assert response.wsgi_request.user.is_authenticated  # set by AuthenticationMiddleware from the session


@pytest.mark.django_db
def test_a_token_call_without_a_session_cookie_gets_no_session_or_user_from_the_middleware(restaurant, reader):
    response = reader.get(BALANCE)
    assert response.status_code == 200
    assert not hasattr(response.wsgi_request, "session") and not hasattr(response.wsgi_request, "user")
    assert "Set-Cookie" not in response and "Vary" not in response
