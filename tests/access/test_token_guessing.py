"""Guessing API tokens: an address that presents too many unknown keys is locked out for a while."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from access.models import TokenFailureCounter
from access.services import api_token_create, api_token_revoke
from mesa247.metrics import API_TOKEN_REFUSALS
from tests.access.conftest import BALANCE, LEDGER, client_with
from tests.conftest import assert_problem

pytestmark = pytest.mark.django_db

ATTACKER = "203.0.113.7"
NEIGHBOUR = "198.51.100.9"


@pytest.fixture(autouse=True)
def lockout_after_three(settings):
    settings.API_TOKEN_FAILURE_LIMIT = 3
    settings.API_TOKEN_LOCKOUT_MINUTES = 15


def guess(n: int, *, address: str = ATTACKER, path: str = LEDGER):
    return client_with(f"m247_guess{n:038d}", address=address).get(path)


def refusals(reason: str) -> float:
    return API_TOKEN_REFUSALS.labels(reason)._value.get()


def test_the_limit_of_unknown_keys_locks_the_address_out_with_429_and_retry_after(restaurant, holder):
    valid = api_token_create(user=holder).key
    lockouts, invalid = refusals("lockout"), refusals("invalid")
    start = timezone.now()

    with time_machine.travel(start, tick=False):
        for n in range(3):  # on both paths: the fast path hands an unknown key to the full view
            assert_problem(guess(n, path=(BALANCE, LEDGER)[n % 2]), 401, "authentication_failed")
        locked = assert_problem(guess(3), 429, "throttled")
        assert locked["detail"].startswith("Too many failed API token attempts from this address; try again later.")
        assert guess(4)["Retry-After"] == str(15 * 60)
        # While locked, even a valid key from that address is refused, on both paths: guessing
        # cannot go on, and the answer says nothing of whether a key was right.
        assert_problem(client_with(valid, address=ATTACKER).get(BALANCE), 429, "throttled")
        assert_problem(client_with(valid, address=ATTACKER).get(LEDGER), 429, "throttled")
        # Other addresses are not affected.
        assert client_with(valid, address=NEIGHBOUR).get(BALANCE).status_code == 200
        assert_problem(guess(5, address=NEIGHBOUR), 401, "authentication_failed")

    assert refusals("lockout") == lockouts + 1
    assert refusals("invalid") == invalid + 4
    counter = TokenFailureCounter.objects.get(address=ATTACKER)
    assert (counter.failures, counter.locked_until) == (3, start + timedelta(minutes=15))

    with time_machine.travel(start + timedelta(minutes=14, seconds=59), tick=False):
        assert guess(6)["Retry-After"] == "1"
    with time_machine.travel(start + timedelta(minutes=15), tick=False):  # the cool-off is over
        assert client_with(valid, address=ATTACKER).get(BALANCE).status_code == 200
        assert_problem(guess(7), 401, "authentication_failed")  # and counting starts again from one
        assert TokenFailureCounter.objects.get(address=ATTACKER).failures == 1


def test_failures_older_than_the_window_are_forgotten(restaurant):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        guess(0), guess(1)
    with time_machine.travel(start + timedelta(minutes=15), tick=False):
        assert_problem(guess(2), 401, "authentication_failed")
        assert_problem(guess(3), 401, "authentication_failed")
    assert TokenFailureCounter.objects.get(address=ATTACKER).failures == 2


def test_expired_and_revoked_keys_are_not_guesses(restaurant, holder):
    revoked = api_token_create(user=holder, name="old")
    api_token_revoke(user=holder, name="old")
    expiring = api_token_create(user=holder, name="short", expires_in_days=1)
    with time_machine.travel(timezone.now() + timedelta(days=2), tick=False):
        for _ in range(5):
            assert_problem(client_with(revoked.key, address=ATTACKER).get(LEDGER), 401, "authentication_failed")
            assert_problem(client_with(expiring.key, address=ATTACKER).get(LEDGER), 401, "authentication_failed")
    assert not TokenFailureCounter.objects.exists()


def test_a_failure_clears_other_addresses_stale_counters(restaurant):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        guess(0, address=NEIGHBOUR)
    with time_machine.travel(start + timedelta(minutes=16), tick=False):
        guess(1)
    assert list(TokenFailureCounter.objects.values_list("address", flat=True)) == [ATTACKER]


def test_a_valid_token_costs_one_statement_and_writes_no_counter(restaurant, holder, django_assert_num_queries):
    client = client_with(api_token_create(user=holder).key, address=ATTACKER)
    with django_assert_num_queries(1):  # the lockout check and the first use recorded, in the read itself
        assert client.get(BALANCE).status_code == 200
    assert client.get(LEDGER).status_code == 200
    assert not TokenFailureCounter.objects.exists()
