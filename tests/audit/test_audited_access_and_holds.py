"""The actions of who-gets-in and of payout holds and schedules, each one row of the audit trail, written with the
action: API tokens made and revoked (command and admin), a sign-in lockout, a hold placed and released, a
restaurant's payout schedule changed."""

from datetime import UTC, datetime
from io import StringIO

import pytest
import time_machine
from django.contrib.auth.models import User
from django.core.management import call_command
from django.test import Client

from access.models import ApiToken
from access.services import api_token_revoke_one
from audit.models import AuditAction, AuditEvent
from payouts.models import PayoutHold, PayoutSchedule
from payouts.services.holds import payout_hold_place, payout_hold_release
from payouts.services.restaurant_schedules import payout_schedule_set
from tests.admin.conftest import FINANCE_MANAGER, PASSWORD, StaffClient, staff_user
from tests.admin.signin_helpers import sign_in
from tests.helpers import charge

from .test_audited_services import recorded

pytestmark = pytest.mark.django_db


def test_a_token_made_and_revoked_by_command_is_two_rows_naming_the_command_and_never_the_key():
    holder = User.objects.create_user(username="svc-reports")
    out = StringIO()
    call_command("api_token_create", "svc-reports", "--name", "reports", stdout=out)
    key = out.getvalue().strip().splitlines()[-1]
    call_command("api_token_revoke", "svc-reports", "--name", "reports", stdout=StringIO())

    token = ApiToken.objects.get(user=holder, name="reports")
    [(created_by, created_label, _, object_type, object_id, _, created_after, _)] = recorded(
        AuditAction.TOKEN_CREATED)
    assert (created_by, created_label, object_type, object_id) == (None, "system:api_token_create",
                                                                     "access.apitoken", str(token.pk))
    assert created_after["user"] == "svc-reports" and created_after["name"] == "reports"
    assert created_after["revoked_at"] is None
    [(_, revoked_label, _, _, revoked_id, before, after, _)] = recorded(AuditAction.TOKEN_REVOKED)
    assert (revoked_label, revoked_id) == ("system:api_token_revoke", str(token.pk))
    assert before["revoked_at"] is None and after["revoked_at"] == token.revoked_at.isoformat()
    rows = str(list(AuditEvent.objects.values_list("before", "after", "detail")))
    assert key not in rows and token.key_hash not in rows


def test_a_token_made_and_revoked_in_the_admin_names_the_superuser_and_address():
    admin_user = User.objects.create_superuser(username="root", password=PASSWORD)
    holder = User.objects.create_user(username="svc-payouts")
    client = StaffClient(REMOTE_ADDR="198.51.100.20")
    client.force_login(admin_user)
    client.post("/admin/access/apitoken/add/", {"user": holder.pk, "name": "payouts", "expires_in_days": 30})
    token = ApiToken.objects.get(user=holder, name="payouts")
    client.post("/admin/access/apitoken/", {"action": "revoke_selected", "_selected_action": [token.pk]})

    assert [row[:3] for row in recorded(AuditAction.TOKEN_CREATED)] == [(admin_user.pk, "root", "198.51.100.20")]
    assert [row[:3] for row in recorded(AuditAction.TOKEN_REVOKED)] == [(admin_user.pk, "root", "198.51.100.20")]


def test_revoking_a_revoked_token_again_records_nothing_more():
    holder = User.objects.create_user(username="svc-once")
    call_command("api_token_create", "svc-once", "--name", "once", stdout=StringIO())
    token = ApiToken.objects.get(user=holder)
    api_token_revoke_one(token=token)
    api_token_revoke_one(token=token)
    assert len(recorded(AuditAction.TOKEN_REVOKED)) == 1


def test_a_sign_in_lockout_is_one_row_naming_the_account_and_the_address():
    staff = User.objects.create_user(username="sofia.staff", password=PASSWORD, is_staff=True)
    client = Client(REMOTE_ADDR="203.0.113.50")
    with time_machine.travel(datetime(2026, 3, 2, 17, 0, tzinfo=UTC), tick=False):
        for _ in range(5):
            sign_in(client, "sofia.staff", "wrong password", "000000")

    [(actor, label, address, object_type, object_id, _, _, detail)] = recorded(AuditAction.SIGN_IN_LOCKED)
    assert (actor, label, address) == (None, "anonymous", "203.0.113.50")
    assert (object_type, object_id, detail) == ("auth.user", str(staff.pk), {"username": "sofia.staff"})
    assert len(recorded(AuditAction.SIGN_IN_FAILED)) == 5


def test_a_hold_placed_and_released_is_one_row_each_with_its_manager_and_address():
    charge(event_id="evt_audit_hold", restaurant_id="res_audit_hold", amount=12000, fee=600,
           at="2026-01-05T15:00:00Z")
    placer, releaser = staff_user("ana.manager", FINANCE_MANAGER), staff_user("ben.manager", FINANCE_MANAGER)
    hold = payout_hold_place(restaurant_id="res_audit_hold", currency="PEN", reason="KYC review",
                             placed_by=placer, address="192.0.2.1")
    payout_hold_release(hold_id=hold.pk, released_by=releaser, note="cleared", address="192.0.2.2")

    assert recorded(AuditAction.HOLD_PLACED) == [
        (placer.pk, "ana.manager", "192.0.2.1", "payouts.payouthold", str(hold.pk), None,
         {"restaurant_id": "res_audit_hold", "currency": "PEN", "reason": "KYC review"}, {})]
    assert recorded(AuditAction.HOLD_RELEASED) == [
        (releaser.pk, "ben.manager", "192.0.2.2", "payouts.payouthold", str(hold.pk), {"released": False},
         {"released": True, "note": "cleared"}, {"restaurant_id": "res_audit_hold", "currency": "PEN"})]


def test_a_release_the_four_eyes_rule_refuses_leaves_no_row():
    charge(event_id="evt_audit_refused", restaurant_id="res_audit_refused", amount=5000, fee=250,
           at="2026-01-05T15:00:00Z")
    placer = staff_user("ana.manager", FINANCE_MANAGER)
    hold = payout_hold_place(restaurant_id="res_audit_refused", currency=None, reason="fraud check",
                             placed_by=placer)
    with pytest.raises(Exception, match="four-eyes"):
        payout_hold_release(hold_id=hold.pk, released_by=placer)
    assert recorded(AuditAction.HOLD_RELEASED) == []
    assert PayoutHold.objects.count() == 1


def test_a_restaurant_schedule_change_records_the_terms_before_and_after():
    charge(event_id="evt_audit_schedule", restaurant_id="res_audit_schedule", amount=5000, fee=250,
           at="2026-01-05T15:00:00Z")
    manager = staff_user("ana.manager", FINANCE_MANAGER)
    first = payout_schedule_set(restaurant_id="res_audit_schedule", frequency="weekly", weekday=2,
                                changed_by=manager, address="192.0.2.9")
    second = payout_schedule_set(restaurant_id="res_audit_schedule", frequency="monthly", day_of_month=15,
                                 min_amount=5000, changed_by=manager)

    rows = recorded(AuditAction.SCHEDULE_CHANGED)
    weekly = {"frequency": "weekly", "weekday": 2, "day_of_month": None, "last_day_of_month": False,
              "min_amount": 1}
    monthly = {"frequency": "monthly", "weekday": None, "day_of_month": 15, "last_day_of_month": False,
               "min_amount": 5000}
    assert rows == [
        (manager.pk, "ana.manager", "192.0.2.9", "payouts.payoutschedule", str(first.pk), None, weekly,
         {"restaurant_id": "res_audit_schedule"}),
        (manager.pk, "ana.manager", None, "payouts.payoutschedule", str(second.pk), weekly, monthly,
         {"restaurant_id": "res_audit_schedule"}),
    ]
    assert PayoutSchedule.objects.count() == 2
