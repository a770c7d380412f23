"""The four-eyes flow in the admin: a Finance manager proposes, a different Finance approver decides."""

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from ledger.models import Adjustment, AdjustmentDecision, Transaction
from ledger.selectors import balance_get
from tests.admin.conftest import at, ingest, staff_user

pytestmark = pytest.mark.django_db

FINANCE_APPROVER = "Finance approver"
ADD = "admin:ledger_adjustment_add"
CHANGELIST = "admin:ledger_adjustment_changelist"


@pytest.fixture
def owed(db):
    ingest("evt_r1", "charge_succeeded", "res_r", 12000, fee=600, occurred_at=at(days=20))
    assert available() == 11400


def available() -> int:
    return balance_get(restaurant_id="res_r", currency="PEN").available


@pytest.fixture
def approver(db):
    return staff_user("ana.approver", FINANCE_APPROVER)


def messages_of(response, *, proposals: bool = False) -> list[str]:
    """The messages shown with the response; those left over from earlier proposals only when asked."""
    shown = [str(message) for message in get_messages(response.wsgi_request)]
    return shown if proposals else [message for message in shown if " proposed: " not in message]


def propose(client, **fields):
    data = {"restaurant_id": "res_r", "currency": "PEN", "amount": "1500", "reason": "goodwill_credit",
            "note": "Table double-booked", "reference": "ticket-9", **fields}
    return client.post(reverse(ADD), data)


def test_a_manager_proposes_on_the_add_page_and_nothing_moves(client, manager, owed):
    client.force_login(manager)
    page = client.get(reverse(ADD))
    assert page.status_code == 200
    assert b'name="restaurant_id"' in page.content and b'name="amount"' in page.content

    response = propose(client)

    adjustment = Adjustment.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:ledger_adjustment_change", args=[adjustment.pk])
    assert (adjustment.amount, adjustment.proposed_by, adjustment.reference) == (1500, manager, "ticket-9")
    assert messages_of(response, proposals=True) == [f"Adjustment #{adjustment.pk} proposed: PEN 15.00 for res_r. "
                                     "Another Finance approver must approve it."]
    assert available() == 11400
    page = client.get(response["Location"])
    assert b"You proposed this adjustment" in page.content
    assert b"adjustment-approve" not in page.content


def test_the_add_form_refuses_invalid_fields_with_the_services_messages(client, manager, owed):
    client.force_login(manager)
    response = propose(client, restaurant_id="res_unknown", amount="0")
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert errors["amount"] == ["Must not be 0: positive credits the restaurant, negative debits it."]
    assert errors["restaurant_id"] == ["No restaurant 'res_unknown' has any recorded activity."]
    assert not Adjustment.objects.exists()


@pytest.mark.parametrize("amount", ["1500.0", "1,500", "15.00", "1e3"])
def test_the_add_form_refuses_an_amount_that_is_not_whole_minor_units(client, manager, owed, amount):
    client.force_login(manager)
    response = propose(client, amount=amount)
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["amount"] == [
        "Must be an integer number of minor units (no decimals, no separators)."]
    assert not Adjustment.objects.exists()


def test_an_approver_approves_with_the_button_and_the_balance_moves(client, manager, approver, owed):
    client.force_login(manager)
    propose(client)
    adjustment = Adjustment.objects.get()
    client.force_login(approver)
    page = client.get(reverse("admin:ledger_adjustment_change", args=[adjustment.pk]))
    assert b'id="adjustment-approve"' in page.content and b'id="adjustment-reject"' in page.content

    response = client.post(reverse("admin:ledger_adjustment_approve", args=[adjustment.pk]))

    assert response.status_code == 302
    assert messages_of(response) == [f"Adjustment #{adjustment.pk} approved."]
    assert AdjustmentDecision.objects.get().decided_by == approver
    assert Transaction.objects.filter(adjustment=adjustment).count() == 1
    assert available() == 12900
    page = client.get(reverse("admin:ledger_adjustment_change", args=[adjustment.pk]))
    assert b"adjustment-approve" not in page.content and b"Approved" in page.content


def test_the_proposer_is_refused_with_a_clear_message(client, manager, owed):
    manager.groups.add(staff_user("x.approver", FINANCE_APPROVER).groups.get())  # may approve, but proposed it
    client.force_login(manager)
    propose(client)
    adjustment = Adjustment.objects.get()

    response = client.post(reverse("admin:ledger_adjustment_approve", args=[adjustment.pk]))

    assert messages_of(response) == [
        f"Adjustment #{adjustment.pk} not approved: You proposed adjustment {adjustment.pk}: another approver "
        "must decide it (four-eyes rule)."]
    response = client.post(reverse(CHANGELIST), {"action": "approve_selected", "_selected_action": [adjustment.pk]})
    assert any("another approver must decide it" in message for message in messages_of(response))
    assert not AdjustmentDecision.objects.exists()
    assert available() == 11400


def test_the_changelist_actions_reject_and_refuse_a_second_decision(client, manager, approver, owed):
    client.force_login(manager)
    propose(client)
    propose(client, amount="-700", reason="chargeback_fee")
    first, second = Adjustment.objects.order_by("id")
    client.force_login(approver)
    response = client.post(reverse(CHANGELIST), {"action": "reject_selected", "_selected_action": [first.pk]})
    assert messages_of(response) == [f"Adjustment #{first.pk} rejected."]
    response = client.post(reverse(CHANGELIST),
                           {"action": "approve_selected", "_selected_action": [first.pk, second.pk]})
    assert sorted(messages_of(response)[-2:]) == sorted([
        f"Adjustment #{first.pk} not approved: Adjustment {first.pk} has already been decided.",
        f"Adjustment #{second.pk} approved.",
    ])
    assert available() == 11400 - 700
    pending = client.get(reverse(CHANGELIST) + "?status=pending")
    assert list(pending.context["cl"].result_list) == []


def test_who_may_do_what(client, viewer, manager, approver, owed):
    client.force_login(viewer)
    assert client.get(reverse(ADD)).status_code == 403
    assert client.get(reverse(CHANGELIST)).status_code == 200
    client.force_login(approver)
    assert client.get(reverse(ADD)).status_code == 403  # approvers do not propose
    client.force_login(manager)
    propose(client)
    adjustment = Adjustment.objects.get()
    assert client.post(reverse("admin:ledger_adjustment_approve", args=[adjustment.pk])).status_code == 403
    changelist = client.get(reverse(CHANGELIST))
    assert changelist.context["action_form"] is None  # no approve or reject action for a manager
    # Read-only once proposed: no change or delete for anyone.
    assert client.post(reverse("admin:ledger_adjustment_change", args=[adjustment.pk]),
                       {"amount": "99"}).status_code == 403
    assert client.get(reverse("admin:ledger_adjustment_delete", args=[adjustment.pk])).status_code == 403
    assert Adjustment.objects.get().amount == 1500
