"""Staff sessions end after ADMIN_SESSION_IDLE_MINUTES (15) without a page, and 12 hours after sign-in."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.contrib.auth.models import User
from django.test import Client

from mesa247.browser_middleware import SIGNED_IN_AT
from staff.devices import totp_device_create, totp_secret
from tests.admin.conftest import PASSWORD
from tests.admin.signin_helpers import sign_in, totp_code

pytestmark = pytest.mark.django_db

MORNING = datetime(2026, 3, 2, 13, 0, 0, tzinfo=UTC)
PAGE = "/admin/two-factor/"  # a light page that needs a signed-in, verified session


@pytest.fixture
def signed_in_client():
    user = User.objects.create_user(username="sofia.staff", password=PASSWORD, is_staff=True)
    secret = totp_secret(totp_device_create(user=user, confirmed=True))
    with time_machine.travel(MORNING, tick=False) as traveller:
        client = Client()
        assert sign_in(client, "sofia.staff", PASSWORD, totp_code(secret)).status_code == 302
        yield client, traveller


def page_opens(client: Client) -> bool:
    response = client.get(PAGE)
    if response.status_code == 302:
        assert response["Location"].startswith("/admin/login/")
        return False
    assert response.status_code == 200
    return True


def test_a_session_survives_while_used_and_ends_after_fifteen_idle_minutes(signed_in_client):
    client, clock = signed_in_client
    for _ in range(4):  # an hour of work, a page every 14 minutes and 50 seconds
        clock.shift(timedelta(minutes=14, seconds=50))
        assert page_opens(client)
    clock.shift(timedelta(minutes=15, seconds=1))
    assert not page_opens(client)
    clock.shift(timedelta(seconds=1))
    assert not page_opens(client)  # ended for good, not only for one request


def test_the_idle_limit_counts_from_the_last_renewal_so_a_session_ends_early_never_late(signed_in_client):
    # A page renews the session only a minute or more after the last renewal (no write per page):
    # a page 30 s after sign-in does not move the limit, which stays 15 minutes after sign-in.
    client, clock = signed_in_client
    clock.shift(timedelta(seconds=30))
    assert page_opens(client)
    clock.shift(timedelta(minutes=14, seconds=29))
    assert page_opens(client)  # 14 min 59 s after the renewal at sign-in: renews
    clock.shift(timedelta(minutes=15))
    assert page_opens(client)  # 15 min after that renewal
    clock.shift(timedelta(minutes=15, seconds=1))
    assert not page_opens(client)


def test_a_session_ends_twelve_hours_after_sign_in_however_busy(signed_in_client):
    client, clock = signed_in_client
    for _ in range(71):  # a page every ten minutes until 11 h 50
        clock.shift(timedelta(minutes=10))
        assert page_opens(client)
    clock.shift(timedelta(minutes=9, seconds=59))
    assert page_opens(client)  # 11 h 59 min 59 s
    clock.shift(timedelta(seconds=2))
    assert not page_opens(client)


def test_a_signed_in_session_without_a_sign_in_time_ends(signed_in_client):
    client, _ = signed_in_client
    session = client.session
    del session[SIGNED_IN_AT]  # a session from before these limits
    session.save()
    assert not page_opens(client)


def test_an_api_call_without_a_session_cookie_gets_no_session(db):
    response = Client().get("/v1/restaurants/res_001/balance")
    assert response.status_code == 401
    assert "sessionid" not in response.cookies
    assert "Content-Security-Policy" not in response
