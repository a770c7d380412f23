"""The back office's audited actions: each leaves exactly one row with the person, their address and the
state before and after — run requests, adjustment decisions, schedules, users, groups and sign-ins."""

import pytest
from django.contrib.auth.models import Group, Permission, User
from django.urls import reverse
from django.utils import timezone
from django_q.models import Schedule

from audit.models import AuditAction, AuditEvent
from ledger.services.adjustments import adjustment_propose
from payouts.models import PayoutRun
from staff.devices import totp_device_create, totp_secret
from tests.admin.conftest import FINANCE_MANAGER, PASSWORD, staff_user
from tests.admin.signin_helpers import totp_code
from tests.helpers import charge

from .test_audited_services import recorded

pytestmark = pytest.mark.django_db


@pytest.fixture
def manager():
    return staff_user("mario.manager", FINANCE_MANAGER)


@pytest.fixture
def manager_client(client, manager):
    client.force_login(manager)
    return client


@pytest.fixture
def superuser_client(client):
    root = User.objects.create_superuser(username="root", password=PASSWORD, email="root@mesa247.test")
    client.force_login(root)
    return client


def test_a_run_requested_in_the_admin_names_the_manager_and_the_address(manager, manager_client):
    today = timezone.localdate().isoformat()
    response = manager_client.post(reverse("admin:payouts_payoutrun_run"),
                                   {"currency": "PEN", "as_of": today, "min_amount": "5000"})
    assert response.status_code == 302
    run = PayoutRun.objects.get()
    assert recorded(AuditAction.PAYOUT_RUN_REQUESTED) == [(
        manager.pk, "mario.manager", "127.0.0.1", "payouts.payoutrun", str(run.pk), None,
        {"currency": "PEN", "as_of": today, "min_amount": 5000, "status": "queued"}, {"via": "admin"},
    )]


def test_an_adjustment_approved_with_the_admins_button_is_recorded_with_the_approvers_address(client):
    charge(at="2025-12-01T10:00:00Z", amount=12000, fee=600)
    adjustment = adjustment_propose(restaurant_id="res_001", currency="PEN", amount=700, reason="goodwill_credit",
                                    note="Goodwill", proposed_by=staff_user("mario.manager", FINANCE_MANAGER))
    approver = staff_user("ana.approver", "Finance approver")
    client.force_login(approver)
    response = client.post(reverse("admin:ledger_adjustment_approve", args=[adjustment.pk]),
                           REMOTE_ADDR="192.0.2.33")
    assert response.status_code == 302
    assert recorded(AuditAction.ADJUSTMENT_DECIDED) == [(
        approver.pk, "ana.approver", "192.0.2.33", "ledger.adjustment", str(adjustment.pk),
        {"status": "pending"}, {"status": "approved"}, {},
    )]


def test_pausing_a_schedule_in_the_admin_is_one_row_per_schedule_with_its_repeats_before_and_after(
        manager, manager_client):
    pen = Schedule.objects.get(name="payouts: daily run PEN")
    response = manager_client.post(reverse("admin:django_q_schedule_changelist"),
                                   {"action": "pause", "_selected_action": [pen.pk]})
    assert response.status_code == 302
    [(actor, label, address, object_type, object_id, before, after, detail)] = recorded(AuditAction.SCHEDULE_CHANGED)
    assert (actor, label, address, object_type, object_id, detail) == (
        manager.pk, "mario.manager", "127.0.0.1", "django_q.schedule", str(pen.pk), {"via": "pause"})
    assert (before["repeats"], after["repeats"]) == (-1, 0)
    assert {key: value for key, value in before.items() if key != "repeats"} == {
        key: value for key, value in after.items() if key != "repeats"}
    # Paused already: pausing again changes nothing and records nothing.
    manager_client.post(reverse("admin:django_q_schedule_changelist"),
                        {"action": "pause", "_selected_action": [pen.pk]})
    manager_client.post(reverse("admin:django_q_schedule_changelist"),
                        {"action": "resume", "_selected_action": [pen.pk]})
    assert [(row[5]["repeats"], row[6]["repeats"], row[7]) for row in recorded(AuditAction.SCHEDULE_CHANGED)] == [
        (-1, 0, {"via": "pause"}), (0, -1, {"via": "resume"})]


def test_a_schedule_changed_on_its_page_is_recorded_and_an_unchanged_save_is_not(manager, manager_client):
    pen = Schedule.objects.get(name="payouts: daily run PEN")
    url = reverse("admin:django_q_schedule_change", args=[pen.pk])
    response = manager_client.post(url, {"repeats": "0", "next_run_0": "2030-01-01", "next_run_1": "06:00:00"})
    assert response.status_code == 302
    [row] = recorded(AuditAction.SCHEDULE_CHANGED)
    assert row[:5] == (manager.pk, "mario.manager", "127.0.0.1", "django_q.schedule", str(pen.pk))
    assert (row[5]["repeats"], row[6]["repeats"], row[6]["next_run"]) == (-1, 0, "2030-01-01T11:00:00Z")
    manager_client.post(url, {"repeats": "0", "next_run_0": "2030-01-01", "next_run_1": "06:00:00"})
    assert len(recorded(AuditAction.SCHEDULE_CHANGED)) == 1


def user_form(user: User, **changes) -> dict:
    """The admin's user change form as the page posts it."""
    data = {"username": user.username, "first_name": "", "last_name": "", "email": user.email,
            "is_active": "on", "groups": list(user.groups.values_list("pk", flat=True)),
            "user_permissions": list(user.user_permissions.values_list("pk", flat=True)),
            "last_login_0": "", "last_login_1": "", "date_joined_0": "2025-01-01", "date_joined_1": "00:00:00"}
    if user.is_staff:
        data["is_staff"] = "on"
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def test_granting_a_user_staff_a_group_and_a_permission_is_one_row_with_before_and_after(superuser_client):
    clerk = User.objects.create_user(username="carla.clerk", password=PASSWORD, email="carla@mesa247.test")
    manager_group = Group.objects.get(name=FINANCE_MANAGER)
    view_audit = Permission.objects.get(content_type__app_label="audit", codename="view_auditevent")
    response = superuser_client.post(
        reverse("admin:auth_user_change", args=[clerk.pk]),
        user_form(clerk, is_staff="on", groups=[manager_group.pk], user_permissions=[view_audit.pk]),
        REMOTE_ADDR="192.0.2.10",
    )
    assert response.status_code == 302, response.content
    root = User.objects.get(username="root")
    assert recorded(AuditAction.USER_CHANGED) == [(
        root.pk, "root", "192.0.2.10", "auth.user", str(clerk.pk),
        {"username": "carla.clerk", "is_active": True, "is_staff": False, "is_superuser": False, "groups": [],
         "user_permissions": []},
        {"username": "carla.clerk", "is_active": True, "is_staff": True, "is_superuser": False,
         "groups": [FINANCE_MANAGER], "user_permissions": ["audit.view_auditevent"]},
        {},
    )]
    # A change that is not about access (a name) records nothing.
    clerk.refresh_from_db()
    superuser_client.post(reverse("admin:auth_user_change", args=[clerk.pk]), user_form(clerk, first_name="Carla"))
    assert len(recorded(AuditAction.USER_CHANGED)) == 1


def test_deactivating_a_user_is_recorded(superuser_client):
    clerk = User.objects.create_user(username="carla.clerk", password=PASSWORD, is_staff=True)
    superuser_client.post(reverse("admin:auth_user_change", args=[clerk.pk]), user_form(clerk, is_active=None))
    [row] = recorded(AuditAction.USER_CHANGED)
    assert (row[5]["is_active"], row[6]["is_active"]) == (True, False)


def test_a_user_added_in_the_admin_is_recorded_with_no_before(superuser_client):
    response = superuser_client.post(reverse("admin:auth_user_add"), {
        "username": "new.person", "password1": "a long and unusual pass", "password2": "a long and unusual pass",
        "usable_password": "true"})
    assert response.status_code == 302, response.content
    new = User.objects.get(username="new.person")
    assert [(row[4], row[5], row[6]) for row in recorded(AuditAction.USER_CHANGED)] == [(str(new.pk), None, {
        "username": "new.person", "is_active": True, "is_staff": False, "is_superuser": False, "groups": [],
        "user_permissions": []})]


def test_changing_a_groups_permissions_is_one_row_with_before_and_after(superuser_client):
    viewer = Group.objects.get(name="Finance viewer")
    before = sorted(f"{p.content_type.app_label}.{p.codename}" for p in viewer.permissions.all())
    view_audit = Permission.objects.get(content_type__app_label="audit", codename="view_auditevent")
    response = superuser_client.post(reverse("admin:auth_group_change", args=[viewer.pk]), {
        "name": "Finance viewer", "permissions": [*viewer.permissions.values_list("pk", flat=True), view_audit.pk]})
    assert response.status_code == 302, response.content
    assert [row[3:7] for row in recorded(AuditAction.GROUP_CHANGED)] == [(
        "auth.group", str(viewer.pk), {"name": "Finance viewer", "permissions": before},
        {"name": "Finance viewer", "permissions": sorted([*before, "audit.view_auditevent"])},
    )]


def test_a_group_deleted_in_the_admin_is_recorded_with_what_it_granted(superuser_client):
    temp = Group.objects.create(name="Temporary")
    temp.permissions.add(Permission.objects.get(content_type__app_label="audit", codename="view_auditevent"))
    response = superuser_client.post(reverse("admin:auth_group_delete", args=[temp.pk]), {"post": "yes"})
    assert response.status_code == 302
    assert [row[3:7] for row in recorded(AuditAction.GROUP_CHANGED)] == [(
        "auth.group", str(temp.pk), {"name": "Temporary", "permissions": ["audit.view_auditevent"]}, None)]


def test_signing_in_to_the_back_office_is_recorded_and_so_is_a_failed_attempt(client, manager):
    login = reverse("admin:login")
    client.post(login, {"username": "mario.manager", "password": "not the password"}, REMOTE_ADDR="198.51.100.7")
    client.post(login, {"username": "nobody.known", "password": "whatever"}, REMOTE_ADDR="198.51.100.7")
    assert recorded(AuditAction.SIGN_IN_FAILED) == [
        (None, "anonymous", "198.51.100.7", "auth.user", str(manager.pk), None, None, {"username": "mario.manager"}),
        (None, "anonymous", "198.51.100.7", "auth.user", "", None, None, {"username": "nobody.known"}),
    ]
    secret = totp_secret(totp_device_create(user=manager, confirmed=True))
    response = client.post(login, {"username": "mario.manager", "password": PASSWORD, "otp_token": totp_code(secret),
                                   "next": "/admin/"}, REMOTE_ADDR="198.51.100.8")
    assert response.status_code == 302
    assert recorded(AuditAction.SIGN_IN_SUCCEEDED) == [
        (manager.pk, "mario.manager", "198.51.100.8", "auth.user", str(manager.pk), None, None, {})]


def test_the_audit_trail_is_read_only_in_the_admin_for_superusers_too(superuser_client):
    event = AuditEvent.objects.create(action=AuditAction.SIGN_IN_FAILED, actor_label="anonymous", object_id="42")
    changelist = reverse("admin:audit_auditevent_changelist")
    assert superuser_client.get(changelist).status_code == 200
    assert superuser_client.get(f"{changelist}?q=42").context["cl"].result_count == 1
    assert superuser_client.get(f"{changelist}?action__exact=sign_in_failed&actor_label=anonymous"
                                ).context["cl"].result_count == 1
    assert superuser_client.get(reverse("admin:audit_auditevent_add")).status_code == 403
    assert superuser_client.get(reverse("admin:audit_auditevent_delete", args=[event.pk])).status_code == 403
    page = superuser_client.get(reverse("admin:audit_auditevent_change", args=[event.pk])).content.decode()
    assert 'name="_save"' not in page


def test_a_finance_viewer_cannot_read_the_audit_trail_and_a_manager_can(client, manager):
    viewer = staff_user("fiona.viewer", "Finance viewer")
    client.force_login(viewer)
    assert client.get(reverse("admin:audit_auditevent_changelist")).status_code == 403
    client.force_login(manager)
    assert client.get(reverse("admin:audit_auditevent_changelist")).status_code == 200


def test_a_password_set_in_the_admin_is_recorded_without_the_password(superuser_client):
    clerk = User.objects.create_user(username="carla.clerk", password=PASSWORD)
    response = superuser_client.post(reverse("admin:auth_user_password_change", args=[clerk.pk]), {
        "password1": "a brand new long passphrase", "password2": "a brand new long passphrase",
        "usable_password": "true"})
    assert response.status_code == 302, response.content
    root = User.objects.get(username="root")
    assert recorded(AuditAction.USER_CHANGED) == [(
        root.pk, "root", "127.0.0.1", "auth.user", str(clerk.pk), None, None, {"password": "set", "usable": True})]
    assert "a brand new long passphrase" not in str(AuditEvent.objects.values_list("detail", flat=True))
