"""The event, payout, restaurant and balance pages show where the processor's settlement reports stand on them.

On top of the money world (tests/admin/conftest.py), the report "stl_pages" lists:
    evt_a1   charge, but for 125.00 (we hold 120.00)      → mismatched (amount), exception open
    evt_a2, evt_a3, evt_b1, evt_b2 as we hold them         → matched
    evt_lost a charge of res_a we never received (90.00)   → missing from the ledger, then recorded from the report
    payout_c paid, as the bank says                        → matched
    payout_a a payout line, but ours is still created      → mismatched (status), exception open
and leaves out evt_c1 (25 days old: missing from the reports, exception open) and evt_a4 (1 day old: within
the 3 grace days, not listed yet). evt_c_paid is a payout event: its payout's lines confirm it.
"""

import html
import re
from datetime import timedelta

import pytest
from django.contrib.admin.utils import quote
from django.urls import reverse
from django.utils import timezone

from ledger.models import RestaurantBalance
from processor.models import Event
from reconciliation.models import ReconciliationException
from reconciliation.resolutions import exception_resolve
from reconciliation.selectors import NOT_LISTED, NOT_REPORTED, event_reconciliation_get, payout_reconciliation_get
from tests.admin.test_dashboard_reconciliation import reconcile
from tests.reconciliation.conftest import event_line, line, payout_line, report_csv

pytestmark = pytest.mark.django_db

QUEUE = "/admin/reconciliation/reconciliationexception/"


@pytest.fixture
def reported(money_world, manager):
    events = money_world.events
    lines = [
        event_line("ln_a1", events["evt_a1"], amount=12500),
        event_line("ln_a2", events["evt_a2"]),
        event_line("ln_a3", events["evt_a3"], "refund"),
        event_line("ln_b1", events["evt_b1"]),
        event_line("ln_b2", events["evt_b2"], "refund"),
        line("ln_lost", "charge", "evt_lost", amount=9000, fee=450, restaurant_id="res_a",
             occurred_at=(timezone.now() - timedelta(days=6)).isoformat()),
        payout_line("ln_pc", money_world.payout_c),
        payout_line("ln_pa", money_world.payout_a),
    ]
    reconcile(report_csv("stl_pages", lines))
    lost = ReconciliationException.objects.get(line__line_id="ln_lost")
    exception_resolve(exception_id=lost.pk, action="record_from_report", note="Webhook lost.", user=manager)
    return money_world


def exception_of(**lookup) -> ReconciliationException:
    return ReconciliationException.objects.get(**lookup)


def row_text(page: str, field: str) -> str:
    """The text a person reads in a detail page's read-only row: a block per line, spaces collapsed."""
    match = re.search(rf'<div class="form-row field-{field}">.*?<div class="readonly">(.*?)</div>\s*</div>\s*</div>',
                      page, re.S)
    assert match is not None, f"no {field} row on the page"
    text = re.sub(r"<[^>]+>", "", re.sub(r"</?div[^>]*>", " ", match.group(1)))
    return " ".join(html.unescape(text).split())


def event_page(client, event_id: str) -> str:
    event = Event.objects.get(event_id=event_id)
    response = client.get(reverse("admin:processor_event_change", args=[event.pk]))
    assert response.status_code == 200
    return response.content.decode()


def test_each_event_page_says_where_the_reports_stand_on_it(reported, viewer_client):
    page = event_page(viewer_client, "evt_a2")
    assert "Reconciliation with the processor's settlement reports" in html.unescape(page)
    assert row_text(page, "event_reconciliation").startswith(
        "Matched: report stl_pages, line ln_a2 (charge) agrees with it. (as of ")

    mismatched = exception_of(line__line_id="ln_a1")
    text = row_text(event_page(viewer_client, "evt_a1"), "event_reconciliation")
    assert "Mismatched: report stl_pages, line ln_a1 (charge) differs in amount." in text
    assert f"exception #{mismatched.pk} · Mismatched (amount) · report stl_pages · open since " in text

    missing = exception_of(outcome="missing_from_report")
    text = row_text(event_page(viewer_client, "evt_c1"), "event_reconciliation")
    assert "Missing from the reports: no report listed it within 3 days of when it occurred." in text
    assert f"exception #{missing.pk} · Missing from report · report stl_pages · open since " in text

    text = row_text(event_page(viewer_client, "evt_a4"), "event_reconciliation")
    listed_by = timezone.localtime(reported.events["evt_a4"].occurred_at + timedelta(days=3))
    assert text == ("Not listed by a report yet: unless one lists it, it counts as missing from the reports after "
                    f"{listed_by:%Y-%m-%d %H:%M}.")

    text = row_text(event_page(viewer_client, "evt_c_paid"), "event_reconciliation")
    assert text == "Not in the reports: a payout event is confirmed through its payout's report lines (see the payout)."


def test_an_event_recorded_from_a_report_says_so_with_its_resolution(reported, viewer_client):
    recorded = exception_of(line__line_id="ln_lost")
    text = row_text(event_page(viewer_client, "evt_lost"), "event_reconciliation")
    assert text.startswith("Matched: report stl_pages, line ln_lost (charge) agrees with it.")
    assert "Recorded from the settlement report's line stl_pages/ln_lost: its webhook had not arrived." in text
    assert (f"exception #{recorded.pk} · Missing from ledger · report stl_pages · resolved: Record the event "
            f"from the report by mario.manager on ") in text
    assert text.endswith("— “Webhook lost.”")


def test_the_event_selector_names_each_state(reported):
    states = {event_id: event_reconciliation_get(event=Event.objects.get(event_id=event_id)).state
              for event_id in ("evt_a1", "evt_a2", "evt_c1", "evt_a4", "evt_c_paid", "evt_lost")}
    assert states == {"evt_a1": "mismatched", "evt_a2": "matched", "evt_c1": "missing_from_report",
                      "evt_a4": NOT_LISTED, "evt_c_paid": NOT_REPORTED, "evt_lost": "matched"}


def payout_page(client, payout) -> str:
    response = client.get(reverse("admin:payouts_payout_change", args=[quote(payout.pk)]))
    assert response.status_code == 200
    return response.content.decode()


def test_each_payout_page_lists_the_report_lines_that_name_it(reported, viewer_client, manager):
    assert row_text(payout_page(viewer_client, reported.payout_c), "payout_reconciliation") == (
        "Matched: every report line that names it agrees. report stl_pages, line ln_pc (payout): matched")

    status = exception_of(line__line_id="ln_pa")
    text = row_text(payout_page(viewer_client, reported.payout_a), "payout_reconciliation")
    assert text.startswith("Mismatched: a report line that names it disagrees. "
                           "report stl_pages, line ln_pa (payout): mismatched (status) ")
    assert f"exception #{status.pk} · Mismatched (status) · report stl_pages · open since " in text

    exception_resolve(exception_id=status.pk, action="explain", note="Bank confirmed: paid on the 5th.", user=manager)
    text = row_text(payout_page(viewer_client, reported.payout_a), "payout_reconciliation")
    assert f"exception #{status.pk} · Mismatched (status) · report stl_pages · resolved: Explain" in text
    assert text.endswith("— “Bank confirmed: paid on the 5th.”")
    assert payout_reconciliation_get(payout=reported.payout_a).state == "mismatched"  # the report still disagrees


def test_a_payout_no_report_listed_says_so(money_world, viewer_client):
    assert row_text(payout_page(viewer_client, money_world.payout_a), "payout_reconciliation") == (
        "Not listed by a report yet (the bank has not paid it yet).")


def balance_page(client, restaurant_id: str, currency: str) -> str:
    balance = RestaurantBalance.objects.get(restaurant_id=restaurant_id, currency=currency)
    return client.get(reverse("admin:ledger_restaurantbalance_change", args=[quote(balance.pk)])).content.decode()


def test_the_restaurant_and_balance_pages_show_its_open_exceptions_with_a_link_to_them(reported, viewer_client):
    # res_a: evt_a1's line (125.00) and payout_a's line (140.00) are open; evt_lost's was resolved.
    ReconciliationException.objects.filter(line__line_id="ln_pa").update(opened_at=timezone.now() - timedelta(days=4))
    page = viewer_client.get(reverse("admin:ledger_restaurant_change", args=["res_a"])).content.decode()
    text = row_text(page, "restaurant_reconciliation")
    assert text == ("2 open exceptions in PEN for PEN 265.00, the oldest opened 4 days ago (longer than 3 days). "
                    "all its exceptions, resolved ones included")
    assert 'data-minor="26500"' in page
    assert f'href="{QUEUE}?state=open&amp;restaurant_id=res_a&amp;currency=PEN"' in page

    assert row_text(balance_page(viewer_client, "res_c", "PEN"), "balance_reconciliation").startswith(
        "1 open exception in PEN for PEN 500.00, the oldest opened 0 minutes ago.")

    assert row_text(balance_page(viewer_client, "res_b", "USD"), "balance_reconciliation") == (
        "No open reconciliation exception in USD. all its exceptions, resolved ones included")


def test_the_restaurants_link_opens_the_queue_on_its_open_exceptions(reported, viewer_client):
    response = viewer_client.get(QUEUE, {"state": "open", "restaurant_id": "res_a", "currency": "PEN"})
    assert response.status_code == 200
    assert sorted(exception.line.line_id for exception in response.context["cl"].result_list) == ["ln_a1", "ln_pa"]


def test_a_payouts_lines_are_found_through_the_partial_index_of_payout_lines(reported):
    """The lines' table holds millions of rows and no index of payout_id: the page reads the payout lines' own."""
    from django.db import connection, transaction

    from reconciliation.models import SettlementLine

    query = SettlementLine.objects.filter(category__in=("payout", "payout_return"), source_id=reported.payout_a.pk)
    sql, params = query.query.sql_with_params()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "line_payout_source_idx" in plan, plan
    assert [line.line_id for line in payout_reconciliation_get(payout=reported.payout_a).lines] == ["ln_pa"]
