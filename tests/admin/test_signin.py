"""Back-office sign-in with DEBUG off (as in the test settings): password and second factor, and the lockout."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from django.test import Client, override_settings
from prometheus_client import REGISTRY

from mesa247.client_address import client_address
from staff.checks import second_factor_required_check
from staff.devices import recovery_codes_create, totp_device_create, totp_secret
from tests.admin.conftest import PASSWORD
from tests.admin.signin_helpers import sign_in, signed_in, totp_code

pytestmark = pytest.mark.django_db

NOON = datetime(2026, 3, 2, 17, 0, 0, tzinfo=UTC)  # the start of a 30-second step


@pytest.fixture
def staff(db) -> User:
    return User.objects.create_user(username="sofia.staff", password=PASSWORD, is_staff=True, is_superuser=True)


@pytest.fixture
def secret(staff) -> str:
    return totp_secret(totp_device_create(user=staff, confirmed=True))


@pytest.fixture
def frozen():
    with time_machine.travel(NOON, tick=False) as traveller:
        yield traveller


def signins(outcome: str) -> float:
    return REGISTRY.get_sample_value("mesa247_admin_signins_total", {"outcome": outcome}) or 0.0


def test_the_login_form_asks_for_username_password_and_otp_token():
    page = Client().get("/admin/login/").content.decode()
    for name in ("username", "password", "otp_token"):
        assert f'name="{name}"' in page


def test_a_password_alone_is_refused(staff, secret):
    client = Client()
    response = sign_in(client, "sofia.staff", PASSWORD)
    assert response.status_code == 200
    assert "Enter the code of your authenticator app." in response.content.decode()
    assert not signed_in(client)


def test_a_staff_user_without_an_authenticator_cannot_sign_in(staff):
    client = Client()
    response = sign_in(client, "sofia.staff", PASSWORD, "123456")
    assert "No authenticator or recovery code is set up" in response.content.decode()
    assert not signed_in(client)


def test_password_and_the_current_code_sign_in(staff, secret, frozen):
    client = Client()
    before = signins("succeeded")
    response = sign_in(client, "sofia.staff", PASSWORD, totp_code(secret))
    assert response.status_code == 302 and response["Location"] == "/admin/"
    assert signed_in(client)
    assert signins("succeeded") == before + 1


def test_a_wrong_code_is_refused_and_counted_as_a_failure(staff, secret, frozen):
    client = Client()
    before = signins("failed")
    wrong = f"{(int(totp_code(secret)) + 1) % 1_000_000:06d}"
    response = sign_in(client, "sofia.staff", PASSWORD, wrong)
    assert "That code is not valid" in response.content.decode()
    assert not signed_in(client)
    assert signins("failed") == before + 1


def test_a_replayed_code_is_refused(staff, secret, frozen):
    code = totp_code(secret)
    assert sign_in(Client(), "sofia.staff", PASSWORD, code).status_code == 302
    frozen.shift(5)  # same 30-second step: the code an onlooker saw is still current
    replay = Client()
    response = sign_in(replay, "sofia.staff", PASSWORD, code)
    assert "That code is not valid" in response.content.decode()
    assert not signed_in(replay)
    frozen.shift(30)  # the next code works
    assert sign_in(Client(), "sofia.staff", PASSWORD, totp_code(secret)).status_code == 302


def test_a_recovery_code_signs_in_once(staff, secret, frozen):
    codes = recovery_codes_create(user=staff)
    assert len(codes) == 10 and len(set(codes)) == 10
    assert sign_in(Client(), "sofia.staff", PASSWORD, codes[0]).status_code == 302
    again = Client()
    assert sign_in(again, "sofia.staff", PASSWORD, codes[0]).status_code == 200
    assert not signed_in(again)
    frozen.shift(2)  # django-otp makes a device wait after a wrong code (1 s, doubling)
    assert sign_in(Client(), "sofia.staff", PASSWORD, codes[1]).status_code == 302


def test_a_session_that_skipped_the_second_factor_is_sent_to_the_login_page(staff):
    client = Client()
    client.force_login(staff)  # a password-only session, as before the second factor was required
    response = client.get("/admin/")
    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")


@override_settings(ADMIN_REQUIRE_2FA=False)
def test_with_the_second_factor_off_a_password_signs_in(staff):
    client = Client()
    page = client.get("/admin/login/").content.decode()
    assert 'name="otp_token"' not in page
    assert sign_in(client, "sofia.staff", PASSWORD).status_code == 302
    assert signed_in(client)


# --- the command and the enrolment page ------------------------------------------------------------


def test_totp_device_create_prints_the_uri_then_the_secret_on_its_last_line(staff, frozen, capsys):
    call_command("totp_device_create", "sofia.staff")
    lines = capsys.readouterr().out.strip().splitlines()
    secret = lines[-1]
    assert any(line.startswith("URI: otpauth://totp/") and f"secret={secret}" in line for line in lines[:-1])
    assert sign_in(Client(), "sofia.staff", PASSWORD, totp_code(secret)).status_code == 302


def test_totp_device_create_replaces_the_earlier_authenticator(staff, secret, frozen, capsys):
    call_command("totp_device_create", "sofia.staff")
    new_secret = capsys.readouterr().out.strip().splitlines()[-1]
    assert sign_in(Client(), "sofia.staff", PASSWORD, totp_code(secret)).status_code == 200
    frozen.shift(2)  # django-otp makes a device wait after a wrong code (1 s, doubling)
    assert sign_in(Client(), "sofia.staff", PASSWORD, totp_code(new_secret)).status_code == 302


def test_totp_device_create_names_an_unknown_user():
    with pytest.raises(CommandError, match="No user named 'nobody'"):
        call_command("totp_device_create", "nobody")


def test_recovery_codes_create_prints_ten_codes_that_sign_in(staff, secret, capsys):
    call_command("recovery_codes_create", "sofia.staff")
    codes = capsys.readouterr().out.split()
    assert len(codes) == 10
    assert sign_in(Client(), "sofia.staff", PASSWORD, codes[-1]).status_code == 302


def test_staff_enrol_a_new_authenticator_from_the_admin(staff, secret, frozen):
    client = Client()
    assert sign_in(client, "sofia.staff", PASSWORD, totp_code(secret)).status_code == 302
    page = client.post("/admin/two-factor/", {"action": "new_authenticator"})
    new_secret = page.context["pending_secret"]
    assert f"secret={new_secret}" in page.context["pending_uri"]
    frozen.shift(30)
    # A wrong code confirms nothing: the old authenticator still signs in.
    refused = client.post("/admin/two-factor/", {"action": "confirm_authenticator", "otp_token": "000000"})
    assert "does not match" in refused.content.decode()
    frozen.shift(2)  # django-otp makes a device wait after a wrong code (1 s, doubling)
    confirmed = client.post("/admin/two-factor/",
                            {"action": "confirm_authenticator", "otp_token": totp_code(new_secret)})
    assert confirmed.status_code == 302
    frozen.shift(30)
    assert sign_in(Client(), "sofia.staff", PASSWORD, totp_code(secret)).status_code == 200
    frozen.shift(2)
    assert sign_in(Client(), "sofia.staff", PASSWORD, totp_code(new_secret)).status_code == 302
    # The admin's pages stay open to the session that enrolled.
    assert signed_in(client)


def test_staff_make_recovery_codes_from_the_admin_and_see_them_once(staff, secret, frozen):
    client = Client()
    sign_in(client, "sofia.staff", PASSWORD, totp_code(secret))
    codes = client.post("/admin/two-factor/", {"action": "recovery_codes"}).context["recovery_codes"]
    assert len(codes) == 10
    later = client.get("/admin/two-factor/").content.decode()
    assert "You have 10 unused recovery codes." in later
    assert not any(code in later for code in codes)


# --- the system check ------------------------------------------------------------------------------


@pytest.mark.parametrize(("debug", "require_2fa", "warned"), [(False, False, True), (False, True, False),
                                                               (True, False, False)])
def test_the_system_check_warns_when_the_second_factor_is_off_without_debug(debug, require_2fa, warned):
    with override_settings(DEBUG=debug, ADMIN_REQUIRE_2FA=require_2fa):
        ids = [message.id for message in second_factor_required_check(None)]
    assert ids == (["staff.W001"] if warned else [])


# --- the lockout -----------------------------------------------------------------------------------


def fail(client: Client, username: str = "sofia.staff", **headers):
    return sign_in(client, username, "wrong password", "000000", **headers)


def test_five_failures_lock_the_user_out_for_fifteen_minutes(staff, secret, frozen):
    client = Client()
    for _ in range(4):
        assert fail(client).status_code == 200
    locked_before = signins("locked_out")
    locked = fail(client)
    assert locked.status_code == 429
    assert locked["Retry-After"] == "900"
    assert "Too many failed sign-ins" in locked.content.decode()
    assert signins("locked_out") == locked_before + 1

    # The right password and code change nothing while locked, from another address too.
    elsewhere = Client(REMOTE_ADDR="198.51.100.7")
    assert sign_in(elsewhere, "sofia.staff", PASSWORD, totp_code(secret)).status_code == 429
    assert not signed_in(elsewhere)

    frozen.shift(timedelta(minutes=14, seconds=30))
    assert sign_in(Client(), "sofia.staff", PASSWORD, totp_code(secret)).status_code == 429
    frozen.shift(timedelta(minutes=1))  # 15 minutes and 30 seconds after the lockout: released
    released = Client()
    assert sign_in(released, "sofia.staff", PASSWORD, totp_code(secret)).status_code == 302
    assert signed_in(released)


def test_a_right_password_with_wrong_codes_locks_out_too(staff, secret, frozen):
    client = Client()
    for _ in range(5):
        response = sign_in(client, "sofia.staff", PASSWORD, "000000")
    assert response.status_code == 429


def test_five_failures_from_one_address_lock_that_address_for_every_user(staff, secret, frozen):
    attacker = Client(REMOTE_ADDR="203.0.113.9")
    for n in range(5):
        fail(attacker, username=f"guess{n}")
    assert sign_in(attacker, "sofia.staff", PASSWORD, totp_code(secret)).status_code == 429
    # The user itself is not locked: from their own address they sign in.
    assert sign_in(Client(REMOTE_ADDR="192.0.2.10"), "sofia.staff", PASSWORD, totp_code(secret)).status_code == 302


def test_without_trusted_proxies_x_forwarded_for_does_not_dodge_the_address_lock(staff, frozen):
    attacker = Client(REMOTE_ADDR="203.0.113.9")
    for n in range(5):
        fail(attacker, username=f"guess{n}", HTTP_X_FORWARDED_FOR=f"10.0.0.{n}")
    assert fail(attacker, username="guess9", HTTP_X_FORWARDED_FOR="10.0.0.99").status_code == 429


@override_settings(TRUSTED_PROXY_COUNT=1)
def test_behind_one_trusted_proxy_the_address_it_saw_is_locked(staff, secret, frozen):
    proxy = Client(REMOTE_ADDR="10.0.0.2")
    for n in range(5):
        fail(proxy, username=f"guess{n}", HTTP_X_FORWARDED_FOR="203.0.113.9")
    assert fail(proxy, username="guess9", HTTP_X_FORWARDED_FOR="203.0.113.9").status_code == 429
    # Another client behind the same proxy is not locked.
    other = sign_in(proxy, "sofia.staff", PASSWORD, totp_code(secret), HTTP_X_FORWARDED_FOR="192.0.2.10")
    assert other.status_code == 302


@pytest.mark.parametrize(("proxies", "forwarded", "expected"), [
    (0, "203.0.113.9", "10.0.0.2"),
    (1, "198.51.100.1, 203.0.113.9", "203.0.113.9"),
    (2, "198.51.100.1, 203.0.113.9", "198.51.100.1"),
    (2, "203.0.113.9", "10.0.0.2"),  # fewer entries than proxies: not through them all
])
def test_the_client_address_trusts_only_the_proxies_configured(rf, proxies, forwarded, expected):
    request = rf.get("/admin/login/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR=forwarded)
    with override_settings(TRUSTED_PROXY_COUNT=proxies):
        assert client_address(request) == expected
