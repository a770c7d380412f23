"""Payout holds: runs skip a held restaurant (counted in `held`), its funds keep accruing and show in the
balance with payouts_held true, and a second finance manager's release lets the next run pay it all."""

import threading
import time

import pytest
from django.db import IntegrityError, connection, transaction

from ledger.models import RestaurantBalance
from ledger.services import balance_lock
from payouts.exceptions import PayoutHoldAlreadyReleased, PayoutHoldInvalid, PayoutHoldReleaseByPlacer
from payouts.models import Payout, PayoutHold, PayoutHoldRelease
from payouts.services import execution, payout_hold_place, payout_hold_release
from tests.admin.conftest import staff_user
from tests.conftest import assert_problem
from tests.helpers import charge

from .helpers import payout_of, run

pytestmark = pytest.mark.django_db

MANAGER = "Finance manager"


@pytest.fixture
def ana(db):
    return staff_user("ana", MANAGER)


@pytest.fixture
def bruno(db):
    return staff_user("bruno", MANAGER)


@pytest.fixture
def balance_reader(token_client):
    return token_client("ledger.view_restaurantbalance")


@pytest.fixture
def runs_reader(token_client):
    return token_client("payouts.view_payoutrun", "payouts.view_payouthold")


def balance_body(client, restaurant_id: str, currency: str = "PEN") -> dict:
    response = client.get(f"/v1/restaurants/{restaurant_id}/balance?currency={currency}")
    assert response.status_code == 200
    return response.json()


def test_a_held_restaurant_is_skipped_keeps_accruing_and_is_paid_in_full_after_a_second_managers_release(
    ana, bruno, balance_reader, runs_reader
):
    charge(restaurant_id="res_001", amount=12000, fee=600, at="2025-12-01T15:00:00Z")
    charge(restaurant_id="res_002", amount=5000, at="2025-12-01T15:00:00Z")
    hold = payout_hold_place(restaurant_id="res_001", currency=None, reason="Chargeback investigation",
                             placed_by=ana)

    first = run("2025-12-10")
    body = runs_reader.get(f"/v1/payouts/runs/{first.pk}").json()
    assert (body["eligible"], body["created"], body["skipped"], body["held"], body["total_amount"]) == (
        2, 1, 0, 1, 5000)
    assert payout_of("res_001", "2025-12-10") is None
    assert payout_of("res_002", "2025-12-10").amount == 5000

    # Funds keep accruing, and the balance shows them.
    charge(restaurant_id="res_001", amount=3000, at="2025-12-05T15:00:00Z")
    held = balance_body(balance_reader, "res_001")
    assert (held["available"], held["reserved"], held["payouts_held"]) == (11400 + 3000, 0, True)
    assert balance_body(balance_reader, "res_002")["payouts_held"] is False

    with pytest.raises(PayoutHoldReleaseByPlacer):
        payout_hold_release(hold_id=hold.pk, released_by=ana)
    assert run("2025-12-11").held == 1

    payout_hold_release(hold_id=hold.pk, released_by=bruno)
    assert balance_body(balance_reader, "res_001")["payouts_held"] is False
    second = run("2025-12-12")
    assert (second.created, second.held, second.total_amount) == (1, 0, 14400)
    assert payout_of("res_001", "2025-12-12").amount == 14400
    released = balance_body(balance_reader, "res_001")
    assert (released["available"], released["reserved"]) == (0, 14400)

    with pytest.raises(PayoutHoldAlreadyReleased):
        payout_hold_release(hold_id=hold.pk, released_by=staff_user("carla", MANAGER))


def test_the_database_refuses_a_release_by_the_placer_and_a_second_release(ana, bruno):
    charge(restaurant_id="res_001", amount=1000, at="2025-12-01T15:00:00Z")
    hold = payout_hold_place(restaurant_id="res_001", currency="PEN", reason="KYC review", placed_by=ana)
    with pytest.raises(IntegrityError, match="its placer"), transaction.atomic():
        PayoutHoldRelease.objects.create(hold=hold, released_by=ana)
    PayoutHoldRelease.objects.create(hold=hold, released_by=bruno)
    with pytest.raises(IntegrityError, match="already released"), transaction.atomic():
        PayoutHoldRelease.objects.create(hold=hold, released_by=staff_user("carla", MANAGER))
    assert PayoutHoldRelease.objects.filter(hold=hold).count() == 1


def test_holds_and_releases_are_append_only_in_the_database(ana, bruno):
    charge(restaurant_id="res_001", amount=1000, at="2025-12-01T15:00:00Z")
    hold = payout_hold_place(restaurant_id="res_001", currency=None, reason="KYC review", placed_by=ana)
    payout_hold_release(hold_id=hold.pk, released_by=bruno)
    bypasses = (f"UPDATE payouts_payouthold SET placed_by_id = {bruno.pk}",
                "DELETE FROM payouts_payouthold",
                f"UPDATE payouts_payoutholdrelease SET released_by_id = {ana.pk}",
                "DELETE FROM payouts_payoutholdrelease")
    for statement in bypasses:
        with pytest.raises(IntegrityError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement)
    stored = PayoutHold.objects.select_related("release").get()
    assert (stored.placed_by, stored.reason, stored.release.released_by) == (ana, "KYC review", bruno)


def test_a_hold_in_one_currency_holds_only_that_currency_and_an_all_currency_hold_covers_new_balances(
    ana, balance_reader
):
    charge(restaurant_id="res_001", amount=4000, at="2025-12-01T15:00:00Z", currency="PEN")
    charge(restaurant_id="res_001", amount=2500, at="2025-12-01T15:00:00Z", currency="USD")
    payout_hold_place(restaurant_id="res_001", currency="PEN", reason="PEN bank account check", placed_by=ana)
    assert run("2025-12-10", currency="PEN").held == 1
    assert run("2025-12-10", currency="USD").total_amount == 2500

    payout_hold_place(restaurant_id="res_001", currency=None, reason="Fraud review", placed_by=ana)
    charge(restaurant_id="res_001", amount=900, at="2025-12-01T15:00:00Z", currency="MXN")  # a new balance row
    assert balance_body(balance_reader, "res_001", "MXN") == {
        "restaurant_id": "res_001", "currency": "MXN", "available": 900, "pending": 0, "reserved": 0,
        "last_event_at": "2025-12-01T15:00:00Z", "payouts_held": True}
    assert run("2025-12-10", currency="MXN").held == 1


def test_the_balance_flag_cannot_be_written_false_while_a_hold_stands(ana):
    charge(restaurant_id="res_001", amount=1000, at="2025-12-01T15:00:00Z")
    payout_hold_place(restaurant_id="res_001", currency=None, reason="KYC review", placed_by=ana)
    RestaurantBalance.objects.filter(restaurant_id="res_001").update(payouts_held=False)
    assert RestaurantBalance.objects.get(restaurant_id="res_001").payouts_held is True
    assert run("2025-12-10").created == 0


def test_a_hold_without_reason_currency_or_restaurant_is_refused_and_writes_nothing(ana):
    charge(restaurant_id="res_001", amount=1000, at="2025-12-01T15:00:00Z")
    with pytest.raises(PayoutHoldInvalid) as refused:
        payout_hold_place(restaurant_id="res_404", currency="EUR", reason="  ", placed_by=ana)
    assert sorted(refused.value.errors) == ["currency", "reason", "restaurant_id"]
    assert not PayoutHold.objects.exists()


def test_holds_endpoint_lists_holds_with_who_and_when(ana, bruno, runs_reader, token_client):
    charge(restaurant_id="res_001", amount=1000, at="2025-12-01T15:00:00Z")
    first = payout_hold_place(restaurant_id="res_001", currency="PEN", reason="KYC review", placed_by=ana)
    payout_hold_release(hold_id=first.pk, released_by=bruno)
    second = payout_hold_place(restaurant_id="res_001", currency=None, reason="Fraud review", placed_by=bruno)
    release = PayoutHoldRelease.objects.get(hold=first)

    response = runs_reader.get("/v1/restaurants/res_001/holds")
    assert response.status_code == 200
    assert response.json() == {"restaurant_id": "res_001", "holds": [
        {"hold_id": second.pk, "restaurant_id": "res_001", "currency": None, "reason": "Fraud review",
         "status": "active", "placed_by": "bruno", "placed_at": second.placed_at.isoformat().replace("+00:00", "Z"),
         "released_by": None, "released_at": None},
        {"hold_id": first.pk, "restaurant_id": "res_001", "currency": "PEN", "reason": "KYC review",
         "status": "released", "placed_by": "ana", "placed_at": first.placed_at.isoformat().replace("+00:00", "Z"),
         "released_by": "bruno", "released_at": release.released_at.isoformat().replace("+00:00", "Z")},
    ]}
    assert_problem(runs_reader.get("/v1/restaurants/res_404/holds"), 404, "restaurant_not_found")
    assert_problem(token_client("payouts.view_payoutrun").get("/v1/restaurants/res_001/holds"), 403,
                   "permission_denied")


@pytest.mark.django_db(transaction=True)
def test_a_hold_committed_during_a_run_before_the_restaurants_payout_is_respected(ana, monkeypatch):
    charge(restaurant_id="res_001", amount=4000, at="2025-12-01T15:00:00Z")
    charge(restaurant_id="res_002", amount=6000, at="2025-12-01T15:00:00Z")
    placed = []
    accounts_ensure_many = execution.accounts_ensure_many

    def hold_placed_by_another_connection(**kwargs):
        # After the run's query found res_002 owed and not held, before its payout: a manager holds it.
        def place():
            try:
                placed.append(payout_hold_place(restaurant_id="res_002", currency=None, reason="Fraud review",
                                                placed_by=ana))
            finally:
                connection.close()
        thread = threading.Thread(target=place)
        thread.start()
        thread.join()
        return accounts_ensure_many(**kwargs)

    monkeypatch.setattr(execution, "accounts_ensure_many", hold_placed_by_another_connection)
    result = run("2025-12-10")
    assert len(placed) == 1
    assert (result.eligible, result.created, result.held, result.skipped, result.total_amount) == (2, 1, 1, 0, 4000)
    assert payout_of("res_002", "2025-12-10") is None
    assert list(Payout.objects.values_list("restaurant_id", "amount")) == [("res_001", 4000)]


@pytest.mark.django_db(transaction=True)
def test_a_hold_waits_for_a_payout_that_holds_the_balance_lock(ana):
    charge(restaurant_id="res_001", amount=4000, at="2025-12-01T15:00:00Z")
    locked, finished = threading.Event(), threading.Event()
    release_lock = threading.Event()

    def payout_in_progress():
        try:
            with transaction.atomic():
                balance_lock(restaurant_id="res_001", currency="PEN")
                locked.set()
                release_lock.wait(10)
        finally:
            connection.close()

    def hold():
        try:
            payout_hold_place(restaurant_id="res_001", currency=None, reason="Fraud review", placed_by=ana)
            finished.set()
        finally:
            connection.close()

    payout = threading.Thread(target=payout_in_progress)
    payout.start()
    assert locked.wait(10)
    holder = threading.Thread(target=hold)
    holder.start()
    time.sleep(0.5)
    assert not finished.is_set()  # it waits for the payout's transaction
    release_lock.set()
    payout.join()
    holder.join()
    assert finished.is_set()
    assert RestaurantBalance.objects.get(restaurant_id="res_001").payouts_held is True
