"""Access control, generated from the URL configuration.

Every route under /v1/ is found by walking the URLconf, its path parameters
filled with a placeholder, and its methods read from its view class, so a new
endpoint is covered without editing this file. Processor endpoints are
authenticated by signature: a bad or stale one is 401. Every other endpoint
answers 401 without credentials and 403 to a token whose user lacks the
permission, as problem JSON.
"""

import json
import time

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from rest_framework.test import APIClient

from access.services import api_token_create
from tests.conftest import assert_problem, sign
from tests.factories import UserFactory

PLACEHOLDER = "placeholder_1"  # a valid restaurant id, payout id and run segment alike


def _routes(resolver=None, prefix=""):
    """(route text, URLPattern) for every endpoint, depth first."""
    resolver = resolver or get_resolver()
    for entry in resolver.url_patterns:
        text = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            yield from _routes(entry, text)
        elif isinstance(entry, URLPattern):
            yield text, entry


def v1_endpoints() -> list[tuple[str, str, type]]:
    """(method, path, view class) for every API view under /v1/."""
    endpoints: list[tuple[str, str, type]] = []
    for text, pattern in _routes():
        view_class = getattr(pattern.callback, "view_class", None)
        if not text.startswith("v1/") or view_class is None:
            continue  # the catch-all JSON 404 under /v1/ is a plain function
        assert pattern.name, f"name the route {text!r} so that it can be reversed"
        kwargs = dict.fromkeys(pattern.pattern.regex.groupindex, PLACEHOLDER)
        path = reverse(pattern.name, kwargs=kwargs)
        methods = [m for m in view_class.http_method_names if m not in ("options", "head") and hasattr(view_class, m)]
        endpoints.extend((method, path, view_class) for method in methods)
    return endpoints


def is_processor(view_class) -> bool:
    """The processor's webhooks: authenticated by signature, not by user credentials (the processor app's
    dispute endpoints are read with a token like every other)."""
    return view_class.__module__.startswith("processor.") and not view_class.authentication_classes


ENDPOINTS = v1_endpoints()
USER_ENDPOINTS = [e for e in ENDPOINTS if not is_processor(e[2])]
PROCESSOR_ENDPOINTS = [e for e in ENDPOINTS if is_processor(e[2])]


def ids(endpoints):
    return [f"{method.upper()} {path}" for method, path, _ in endpoints]


def test_the_walk_finds_every_kind_of_endpoint():
    assert len(PROCESSOR_ENDPOINTS) >= 2
    assert len(USER_ENDPOINTS) >= 7
    assert {method for method, _, _ in USER_ENDPOINTS} >= {"get", "post"}


@pytest.mark.django_db
@pytest.mark.parametrize("method, path, view_class", USER_ENDPOINTS, ids=ids(USER_ENDPOINTS))
def test_without_credentials_every_endpoint_is_401(method, path, view_class):
    response = getattr(APIClient(), method)(path, {}, format="json")
    assert_problem(response, 401, "not_authenticated")
    assert response["WWW-Authenticate"] == "Token"


@pytest.mark.django_db
@pytest.mark.parametrize("method, path, view_class", USER_ENDPOINTS, ids=ids(USER_ENDPOINTS))
def test_a_token_without_the_permission_is_403(method, path, view_class):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {api_token_create(user=UserFactory()).key}")
    response = getattr(client, method)(path, {}, format="json")
    assert_problem(response, 403, "permission_denied")


@pytest.mark.django_db
@pytest.mark.parametrize("method, path, view_class", PROCESSOR_ENDPOINTS, ids=ids(PROCESSOR_ENDPOINTS))
def test_a_processor_event_with_a_bad_signature_is_401(method, path, view_class):
    body = json.dumps({"events": []}).encode()
    response = APIClient().generic(method.upper(), path, body, content_type="application/json",
                                   headers={"X-Mesa-Signature": sign(body, secret="whsec_not_ours")})
    assert_problem(response, 401, "signature_mismatch")


@pytest.mark.django_db
@pytest.mark.parametrize("method, path, view_class", PROCESSOR_ENDPOINTS, ids=ids(PROCESSOR_ENDPOINTS))
def test_a_processor_event_with_a_stale_signature_is_401(method, path, view_class):
    body = json.dumps({"events": []}).encode()
    stale = int(time.time()) - 301
    response = APIClient().generic(method.upper(), path, body, content_type="application/json",
                                   headers={"X-Mesa-Signature": sign(body, timestamp=stale)})
    assert_problem(response, 401, "signature_expired")
