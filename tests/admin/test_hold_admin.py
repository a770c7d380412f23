"""Payout holds and schedules in the admin: placed, released (by a second manager) and changed through the
services, with who and when on every record."""

import pytest
from django.contrib.auth.models import User

from payouts.models import PayoutHold, PayoutHoldRelease, PayoutSchedule
from tests.admin.conftest import FINANCE_MANAGER, at, ingest, staff_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def restaurant(db):
    ingest("evt_h1", "charge_succeeded", "res_h", 12000, fee=600, occurred_at=at(days=20))


def logged_in(client, username: str):
    """Signed in as `username`, password and second factor passed (the sign-in itself: tests/admin/test_signin.py)."""
    client.logout()
    client.force_login(User.objects.get(username=username))
    return client


def test_a_manager_places_a_hold_and_only_a_second_manager_can_release_it(client, restaurant):
    staff_user("ana", FINANCE_MANAGER)
    bruno = staff_user("bruno", FINANCE_MANAGER)

    response = logged_in(client, "ana").post("/admin/payouts/payouthold/add/", {
        "restaurant_id": "res_h", "currency": "", "reason": "Chargeback investigation", "_save": "Save"})
    assert response.status_code == 302
    hold = PayoutHold.objects.get()
    assert (hold.restaurant_id, hold.currency, hold.reason, hold.placed_by.username) == (
        "res_h", None, "Chargeback investigation", "ana")
    page = client.get(f"/admin/payouts/payouthold/{hold.pk}/change/").content.decode()
    assert "You placed this hold" in page
    assert 'id="hold-release-button"' not in page

    refused = client.post(f"/admin/payouts/payouthold/{hold.pk}/release/", follow=True)
    assert "another finance manager must release it (four-eyes rule)" in refused.content.decode()
    assert not PayoutHoldRelease.objects.exists()

    logged_in(client, "bruno")
    assert 'id="hold-release-button"' in client.get(f"/admin/payouts/payouthold/{hold.pk}/change/").content.decode()
    released = client.post(f"/admin/payouts/payouthold/{hold.pk}/release/", follow=True)
    assert f"Hold #{hold.pk} released" in released.content.decode()
    assert PayoutHoldRelease.objects.get().released_by == bruno

    again = client.post(f"/admin/payouts/payouthold/{hold.pk}/release/", follow=True)
    assert "has already been released" in again.content.decode()
    assert PayoutHoldRelease.objects.count() == 1


def test_a_hold_without_a_reason_is_refused_on_the_add_page_and_writes_nothing(client, restaurant):
    staff_user("ana", FINANCE_MANAGER)
    response = logged_in(client, "ana").post("/admin/payouts/payouthold/add/", {
        "restaurant_id": "res_h", "currency": "PEN", "reason": " ", "_save": "Save"})
    assert response.status_code == 200
    assert not PayoutHold.objects.exists()


def test_a_viewer_sees_holds_but_cannot_place_or_release_them(client, restaurant):
    staff_user("vera", "Finance viewer")
    logged_in(client, "vera")
    assert client.get("/admin/payouts/payouthold/").status_code == 200
    assert client.get("/admin/payouts/payouthold/add/").status_code == 403
    assert client.post("/admin/payouts/payouthold/1/release/").status_code == 403


def test_a_manager_changes_a_schedule_and_the_history_keeps_every_version(client, restaurant):
    staff_user("ana", FINANCE_MANAGER)
    staff_user("bruno", FINANCE_MANAGER)
    response = logged_in(client, "ana").post("/admin/payouts/payoutschedule/add/", {
        "restaurant_id": "res_h", "frequency": "weekly", "weekday": "4", "min_amount": "2000", "_save": "Save"})
    assert response.status_code == 302
    logged_in(client, "bruno").post("/admin/payouts/payoutschedule/add/", {
        "restaurant_id": "res_h", "frequency": "monthly", "last_day_of_month": "on", "min_amount": "1",
        "_save": "Save"})
    refused = client.post("/admin/payouts/payoutschedule/add/", {
        "restaurant_id": "res_h", "frequency": "monthly", "day_of_month": "31", "min_amount": "1", "_save": "Save"})
    assert refused.status_code == 200
    assert list(PayoutSchedule.objects.order_by("changed_at", "id").values_list(
        "frequency", "weekday", "last_day_of_month", "min_amount", "changed_by__username")) == [
        ("weekly", 4, False, 2000, "ana"), ("monthly", None, True, 1, "bruno")]
    listing = client.get("/admin/payouts/payoutschedule/").content.decode()
    assert "Friday" in listing and "Last day of the month" in listing
