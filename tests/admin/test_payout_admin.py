"""Payouts and runs in the back office: the breakdown, the ledger behind it, starting runs, CSV export."""

import csv
import io
import re
from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.admin.utils import quote, unquote
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone
from django_q.models import OrmQ

from ledger.models import Transaction
from payouts.models import Payout, PayoutRun, PayoutRunStatus
from tests.admin.conftest import at, ingest

PAYOUTS = reverse("admin:payouts_payout_changelist")
RUNS = reverse("admin:payouts_payoutrun_changelist")
RUN_FORM = reverse("admin:payouts_payoutrun_run")
EXPORT = reverse("admin:payouts_payout_export")


def payout_url(payout):
    return reverse("admin:payouts_payout_change", args=[quote(payout.pk)])


# --- Payout pages -------------------------------------------------------------------


def test_payout_page_shows_items_that_sum_to_its_amount(money_world, viewer_client):
    response = viewer_client.get(payout_url(money_world.payout_a))
    page = response.content.decode()
    assert 'class="payout-amount" data-minor="14000">PEN 140.00<' in page
    items = {item.type: item.amount for item in money_world.payout_a.items.all()}
    assert items == {"gross_sales": 20000, "fees": -1000, "refunds": -5000, "fee_refunds": 0, "adjustments": 0,
                     "carried_balance": 0}
    for amount in ("PEN 200.00", "PEN -10.00", "PEN -50.00"):
        assert amount in page
    assert "PEN 140.00 — equals the amount ✓" in page
    assert 'name="_save"' not in page


def test_links_to_a_payout_survive_the_admins_escaping_of_its_id(money_world, viewer_client):
    from mesa247.admin_display import admin_change_url

    # "_12" would decode to a control character if the id were not escaped.
    assert unquote(admin_change_url(Payout, "po_12ab").split("/")[-3]) == "po_12ab"
    event_page = viewer_client.get(
        reverse("admin:processor_event_change", args=[money_world.events["evt_c_paid"].pk])
    ).content.decode()
    href = re.search(r'href="(/admin/payouts/payout/[^"]+/change/)"', event_page).group(1)
    assert viewer_client.get(href).status_code == 200


def test_payout_page_links_its_postings_and_the_events_it_settled(money_world, viewer_client):
    page = viewer_client.get(payout_url(money_world.payout_c)).content.decode()
    postings = Transaction.objects.filter(payout_id=money_world.payout_c.pk).order_by("id")
    assert [posting.kind for posting in postings] == ["payout_reserve", "payout_paid"]
    for posting in postings:
        assert reverse("admin:ledger_transaction_change", args=[posting.pk]) in page
    # settlement → entry → transaction → event
    charge = money_world.events["evt_c1"]
    assert reverse("admin:processor_event_change", args=[charge.pk]) in page
    assert "evt_c_paid" in page  # the bank's confirmation caused the paid posting

    settled_events = viewer_client.get(
        reverse("admin:processor_event_changelist"),
        {"ledger_transaction__entries__settlement__payout__id__exact": money_world.payout_a.pk},
    )
    assert sorted(e.event_id for e in settled_events.context["cl"].result_list) == ["evt_a1", "evt_a2", "evt_a3"]


def test_payouts_filter_by_status_currency_and_as_of_and_search_by_restaurant(money_world, viewer_client):
    def ids(params):
        response = viewer_client.get(PAYOUTS, params)
        assert response.status_code == 200
        return sorted(payout.restaurant_id for payout in response.context["cl"].result_list)

    assert ids({"status__exact": "paid"}) == ["res_c"]
    assert ids({"status__exact": "created", "currency": "PEN"}) == ["res_a"]
    assert ids({"currency": "USD"}) == []
    today = timezone.localdate()
    assert ids({"as_of__year": today.year, "as_of__month": today.month, "as_of__day": today.day}) == ["res_a", "res_c"]
    assert ids({"q": "res_c"}) == ["res_c"]


def test_payouts_are_read_only_for_a_superuser(money_world, superuser_client):
    assert superuser_client.get(reverse("admin:payouts_payout_add")).status_code == 403
    assert superuser_client.post(payout_url(money_world.payout_a), {"status": "paid"}).status_code == 403
    money_world.payout_a.refresh_from_db()
    assert money_world.payout_a.status == "created"


def test_runs_list_shows_status_counts_and_duration(money_world, viewer_client):
    response = viewer_client.get(RUNS)
    page = response.content.decode()
    run = money_world.run
    assert [r.pk for r in response.context["cl"].result_list] == [run.pk]
    assert run.status == PayoutRunStatus.SUCCEEDED
    assert (run.eligible, run.created, run.skipped, run.total_amount) == (2, 2, 0, 62000)
    assert "Succeeded" in page
    assert "PEN 620.00" in page
    assert " s</td>" in page  # the duration column


# --- Run payouts --------------------------------------------------------------------


def test_only_managers_see_and_use_the_run_payouts_page(money_world, viewer_client):
    assert 'id="run-payouts-link"' not in viewer_client.get(RUNS).content.decode()
    assert 'id="run-payouts-link"' not in viewer_client.get(reverse("admin:index")).content.decode()
    assert viewer_client.get(RUN_FORM).status_code == 403
    today = timezone.localdate().isoformat()
    assert viewer_client.post(RUN_FORM, {"currency": "PEN", "as_of": today, "min_amount": "1"}).status_code == 403
    assert PayoutRun.objects.count() == 1


def test_managers_see_the_run_payouts_link(money_world, manager_client):
    assert 'id="run-payouts-link"' in manager_client.get(RUNS).content.decode()
    assert 'id="run-payouts-link"' in manager_client.get(reverse("admin:index")).content.decode()
    assert manager_client.get(RUN_FORM).status_code == 200


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"currency": "EUR"}, "currency"),
        ({"as_of": "tomorrow"}, "as_of"),
        ({"as_of": "2025-02-30"}, "as_of"),
        ({"min_amount": "50.00"}, "min_amount"),
        ({"min_amount": "0"}, "min_amount"),
        ({"min_amount": "-5"}, "min_amount"),
        ({"min_amount": "1000000000001"}, "min_amount"),
        ({"min_amount": ""}, "min_amount"),
    ],
)
def test_the_run_form_applies_the_apis_rules_and_queues_nothing_on_bad_input(manager_client, change, field):
    data = {"currency": "PEN", "as_of": timezone.localdate().isoformat(), "min_amount": "5000", **change}
    if data["as_of"] == "tomorrow":
        data["as_of"] = (timezone.localdate() + timedelta(days=1)).isoformat()
    response = manager_client.post(RUN_FORM, data)
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert PayoutRun.objects.count() == 0
    assert OrmQ.objects.count() == 0


def test_the_run_form_queues_the_same_task_as_the_api_and_shows_the_run(manager, manager_client):
    today = timezone.localdate()
    response = manager_client.post(RUN_FORM, {"currency": "PEN", "as_of": today.isoformat(), "min_amount": "5000"})
    run = PayoutRun.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:payouts_payoutrun_change", args=[run.pk])
    assert (run.currency, run.as_of, run.min_amount, run.status, run.requested_by) == (
        "PEN", today, 5000, "queued", manager
    )
    queued = OrmQ.objects.get()
    assert queued.task["func"] == "payouts.tasks.payout_run_task"
    assert queued.task["args"] == (str(run.pk),)
    assert "queued" in manager_client.get(response["Location"]).content.decode()


def test_a_service_refusal_without_field_errors_is_shown_on_the_form(manager_client, monkeypatch):
    from mesa247.errors import ApplicationError

    def refuse(**kwargs):
        raise ApplicationError("Payout runs are paused for the month-end close.")

    monkeypatch.setattr("payouts.admin.payout_run_request", refuse)
    response = manager_client.post(
        RUN_FORM, {"currency": "PEN", "as_of": timezone.localdate().isoformat(), "min_amount": "5000"}
    )
    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == ["Payout runs are paused for the month-end close."]
    assert "paused for the month-end close" in response.content.decode()
    assert PayoutRun.objects.count() == 0


def test_with_a_sync_worker_the_run_from_the_form_pays_the_restaurants(
    manager_client, django_capture_on_commit_callbacks
):
    ingest("evt_s1", "charge_succeeded", "res_s", 30000, fee=1500, occurred_at=at(days=10))
    sync = {**settings.Q_CLUSTER, "sync": True}
    with override_settings(Q_CLUSTER=sync), django_capture_on_commit_callbacks(execute=True):
        response = manager_client.post(
            RUN_FORM, {"currency": "PEN", "as_of": timezone.localdate().isoformat(), "min_amount": "100"}
        )
    assert response.status_code == 302
    run = PayoutRun.objects.get()
    assert run.status == PayoutRunStatus.SUCCEEDED
    assert Payout.objects.get(restaurant_id="res_s").amount == 28500


# --- CSV export ---------------------------------------------------------------------


def csv_rows(response) -> list[dict]:
    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text)))


def test_managers_export_selected_payouts_one_line_per_item(money_world, manager_client):
    response = manager_client.post(
        PAYOUTS, {"action": "export_selected_csv", "_selected_action": [money_world.payout_a.pk]}
    )
    rows = csv_rows(response)
    assert [(row["item_type"], row["item_amount_minor"], row["item_amount"], row["item_count"]) for row in rows] == [
        ("gross_sales", "20000", "200.00", "2"),
        ("fees", "-1000", "-10.00", "2"),
        ("refunds", "-5000", "-50.00", "1"),
        ("fee_refunds", "0", "0.00", "0"),
        ("adjustments", "0", "0.00", "0"),
        ("carried_balance", "0", "0.00", ""),
    ]
    assert {row["payout_id"] for row in rows} == {money_world.payout_a.pk}
    assert {row["payout_amount_minor"] for row in rows} == {"14000"}
    assert sum(int(row["item_amount_minor"]) for row in rows) == 14000


def test_managers_export_the_current_filter(money_world, manager_client):
    assert 'id="export-csv-link"' in manager_client.get(PAYOUTS, {"status__exact": "paid"}).content.decode()
    rows = csv_rows(manager_client.get(EXPORT, {"status__exact": "paid"}))
    assert {row["payout_id"] for row in rows} == {money_world.payout_c.pk}
    assert len(rows) == 6  # one line per item type
    assert {row["status"] for row in rows} == {"paid"}
    everything = csv_rows(manager_client.get(EXPORT))
    assert len(everything) == 12


def test_viewers_cannot_export(money_world, viewer_client):
    assert 'id="export-csv-link"' not in viewer_client.get(PAYOUTS).content.decode()
    assert viewer_client.get(EXPORT).status_code == 403
    response = viewer_client.post(
        PAYOUTS, {"action": "export_selected_csv", "_selected_action": [money_world.payout_a.pk]}
    )
    assert not response.streaming
    assert response.status_code in (200, 302)


def test_exported_text_cannot_run_as_a_spreadsheet_formula(money_world, manager_client):
    ingest("evt_a_failed", "payout_failed", "res_a", money_world.payout_a.amount, occurred_at=at(minutes=5),
           payout_id=money_world.payout_a.pk, reason="=HYPERLINK(\"http://evil\")")
    rows = csv_rows(manager_client.get(EXPORT, {"status__exact": "failed"}))
    assert {row["failure_reason"] for row in rows} == {"'=HYPERLINK(\"http://evil\")"}
    assert {row["payout_amount_minor"] for row in rows} == {"14000"}


def test_exporting_with_a_malformed_filter_is_a_bad_request(money_world, manager_client):
    manager_client.raise_request_exception = False
    response = manager_client.get(EXPORT, {"as_of__exact": "2025-02-30"})
    assert response.status_code == 400
    assert not getattr(response, "streaming", False)
