"""Processor events: read-only, filterable, searchable, and linked to what they caused."""

import json
import re

from django.contrib.admin.utils import quote
from django.urls import reverse

from ledger.models import Transaction
from processor.models import Event

CHANGELIST = reverse("admin:processor_event_changelist")


def event_ids(response) -> list[str]:
    assert response.status_code == 200
    return sorted(event.event_id for event in response.context["cl"].result_list)


def test_filters_by_type_and_currency(money_world, viewer_client):
    assert event_ids(viewer_client.get(CHANGELIST, {"event_type__exact": "refund_succeeded"})) == ["evt_a3", "evt_b2"]
    assert event_ids(
        viewer_client.get(CHANGELIST, {"event_type__exact": "refund_succeeded", "currency": "USD"})
    ) == ["evt_b2"]
    assert event_ids(viewer_client.get(CHANGELIST, {"currency": "USD"})) == ["evt_b1", "evt_b2"]


def test_filters_by_occurred_date(money_world, viewer_client):
    # "Past 7 days" holds the unmatured charge and the bank's payout confirmation.
    response = viewer_client.get(CHANGELIST)
    past_week = next(
        choice["query_string"]
        for spec in response.context["cl"].filter_specs
        if getattr(spec, "field_path", None) == "occurred_at"
        for choice in spec.choices(response.context["cl"])
        if choice["display"] == "Past 7 days"
    )
    assert event_ids(viewer_client.get(CHANGELIST + past_week)) == ["evt_a4", "evt_c_paid"]


def test_searches_event_id_restaurant_id_and_payment_id_exactly(money_world, viewer_client):
    assert event_ids(viewer_client.get(CHANGELIST, {"q": "evt_a2"})) == ["evt_a2"]
    assert event_ids(viewer_client.get(CHANGELIST, {"q": "res_b"})) == ["evt_b1", "evt_b2"]
    # A payment's charge and its refund.
    assert event_ids(viewer_client.get(CHANGELIST, {"q": "pay_a1"})) == ["evt_a1", "evt_a3"]
    assert event_ids(viewer_client.get(CHANGELIST, {"q": "nothing-like-this"})) == []


def test_list_shows_money_in_major_units(money_world, viewer_client):
    page = viewer_client.get(CHANGELIST, {"q": "evt_a1"}).content.decode()
    assert "PEN 120.00" in page
    assert "PEN 6.00" in page


def test_detail_shows_the_payload_as_json_and_links_its_ledger_transaction(money_world, viewer_client):
    event = money_world.events["evt_a1"]
    response = viewer_client.get(reverse("admin:processor_event_change", args=[event.pk]))
    page = response.content.decode()
    payload = re.search(r'<pre class="event-payload">(.*?)</pre>', page, re.S).group(1)
    body = json.loads(payload.replace("&quot;", '"'))
    assert body["event_id"] == "evt_a1"
    assert body["amount"] == 12000
    assert body["fee"] == 600
    assert body["metadata"] == {"payment_id": "pay_a1"}
    ledger_transaction = Transaction.objects.get(event=event)
    assert reverse("admin:ledger_transaction_change", args=[ledger_transaction.pk]) in page
    assert 'name="_save"' not in page


def test_payout_event_detail_links_to_its_payout(money_world, viewer_client):
    event = money_world.events["evt_c_paid"]
    page = viewer_client.get(reverse("admin:processor_event_change", args=[event.pk])).content.decode()
    assert reverse("admin:payouts_payout_change", args=[quote(money_world.payout_c.pk)]) in page
    assert reverse("admin:ledger_transaction_change", args=[Transaction.objects.get(event=event).pk]) in page


def test_events_are_read_only_for_a_superuser(money_world, superuser_client):
    event = money_world.events["evt_a1"]
    assert superuser_client.get(reverse("admin:processor_event_add")).status_code == 403
    delete_url = reverse("admin:processor_event_delete", args=[event.pk])
    assert superuser_client.post(delete_url, {"post": "yes"}).status_code == 403
    assert Event.objects.filter(pk=event.pk).exists()


def test_pages_need_a_staff_login(money_world, client):
    response = client.get(CHANGELIST)
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")
