"""The reconciliation exceptions queue in a real headless Chromium: a finance manager sees the open exceptions on
the dashboard, follows the panel into the queue, filters it by outcome and explains two exceptions in bulk.

The processor's report "stl_browser" lists the money world's events (tests/admin/conftest.py) but says evt_a1
was a charge of 125.00 (we hold 120.00), adds two charges we never received (evt_lost_1 80.00 of res_a,
evt_lost_2 USD 45.00 of res_d) and leaves out evt_c1 (25 days old):
    evt_a1      mismatched (amount)       open
    evt_lost_1  missing from the ledger   open → explained here
    evt_lost_2  missing from the ledger   open → explained here
    evt_c1      missing from the report   open
Explaining moves no money: every balance stays as it was, to the cent.

Screenshots of the dashboard panel and of the queue after the action go to tests/artifacts/.
"""

import pytest

from audit.models import AuditEvent
from ledger.models import Entry, RestaurantBalance, Transaction
from reconciliation.models import ReconciliationException
from tests.admin.conftest import FINANCE_MANAGER, money_world_build, staff_user
from tests.admin.test_browser import (  # noqa: F401
    ARTIFACTS,
    allow_orm_beside_playwright,
    browser,
    csp_violations,
    log_in,
    page,
)
from tests.admin.test_dashboard_reconciliation import reconcile
from tests.helpers import migration_data_ensure
from tests.reconciliation.conftest import event_line, line, report_csv

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NOTE = "Test charges the processor voided; confirmed by its support, ticket 4711."


def balances() -> dict[tuple[str, str], tuple[int, int]]:
    """Every restaurant's payable and reserved balance, exact minor units, from the projection."""
    return {(row.restaurant_id, row.currency): (row.payable, row.reserved) for row in RestaurantBalance.objects.all()}


def test_a_finance_manager_explains_exceptions_from_the_queue_and_no_money_moves(page):  # noqa: F811
    migration_data_ensure()  # the finance groups and their permissions, as the migrations made them
    world = money_world_build()
    manager = staff_user("mario.manager", FINANCE_MANAGER)
    events = world.events
    listed = [event_line(f"ln_{event_id}", events[event_id], category, **overrides)
              for event_id, category, overrides in (
                  ("evt_a1", "charge", {"amount": 12500}), ("evt_a2", "charge", {}), ("evt_a3", "refund", {}),
                  ("evt_a4", "charge", {}), ("evt_b1", "charge", {}), ("evt_b2", "refund", {}))]
    reconcile(report_csv("stl_browser", [
        *listed,
        line("ln_lost_1", "charge", "evt_lost_1", amount=8000, fee=400, restaurant_id="res_a"),
        line("ln_lost_2", "charge", "evt_lost_2", amount=4500, fee=200, restaurant_id="res_d", currency="USD"),
    ]))
    exceptions = {exception.line.source_id if exception.line else exception.event.event_id: exception
                  for exception in ReconciliationException.objects.select_related("line", "event")}
    assert sorted((source, exception.outcome) for source, exception in exceptions.items()) == [
        ("evt_a1", "mismatched"), ("evt_c1", "missing_from_report"),
        ("evt_lost_1", "missing_from_ledger"), ("evt_lost_2", "missing_from_ledger")]
    before = balances()
    entries, transactions = Entry.objects.count(), Transaction.objects.count()

    # The dashboard: four open exceptions, within the grace days (not red); in PEN 125.00 + 80.00 + 500.00.
    log_in(page, "mario.manager")
    panel = page.locator("#dashboard-reconciliation")
    assert panel.locator(".reconciliation-open-count").inner_text() == "4"
    assert "4 open exceptions" in panel.locator("#reconciliation-open-link").inner_text()
    pen = panel.locator('tr.reconciliation-currency[data-currency="PEN"]')
    assert pen.locator("td.count").inner_text() == "3"
    assert pen.locator("td.amount").inner_text() == "PEN 705.00"
    assert pen.locator("td.amount").get_attribute("data-minor") == "70500"
    usd = panel.locator('tr.reconciliation-currency[data-currency="USD"]')
    assert (usd.locator("td.count").inner_text(), usd.locator("td.amount").inner_text()) == ("1", "USD 45.00")
    assert panel.locator("h2").inner_text() == "Reconciliation"
    assert panel.evaluate("node => getComputedStyle(node).borderTopColor") != "rgb(186, 33, 33)"
    ARTIFACTS.mkdir(exist_ok=True)
    panel.screenshot(path=str(ARTIFACTS / "dashboard-reconciliation.png"))
    assert csp_violations(page) == []

    # Into the queue, filtered to the open ones, then by outcome from the filter sidebar.
    panel.locator("#reconciliation-open-link").click()
    page.wait_for_url("**/admin/reconciliation/reconciliationexception/?state=open")
    assert page.locator("#result_list tbody tr").count() == 4
    page.locator("#changelist-filter").get_by_role("link", name="Missing from ledger", exact=True).click()
    page.wait_for_url("**outcome=missing_from_ledger**")
    assert "state=open" in page.url
    rows = page.locator("#result_list tbody tr")
    assert rows.count() == 2
    assert sorted(rows.locator("td.field-amount_display").all_inner_texts()) == ["PEN 80.00", "USD 45.00"]

    # Select both, choose "explain", write the note beside the action, and go.
    page.locator("#action-toggle").check()
    assert page.locator(".action-counter").inner_text() == "2 of 2 selected"
    page.select_option("select[name=action]", "explain")
    page.fill("input[name=note]", NOTE)
    page.click("button[name=index]")
    page.wait_for_load_state()
    messages = page.locator("ul.messagelist").inner_text()
    assert "2 exception(s) resolved (explain)." in messages
    assert "Exception" not in messages  # no error line for either of them
    # The queue still filters on open exceptions missing from the ledger: none is left.
    assert page.locator("#result_list tbody tr").count() == 0
    page.screenshot(path=str(ARTIFACTS / "reconciliation-queue-explained.png"), full_page=True)
    assert csp_violations(page) == []

    # What was recorded: who, which action, the note, on each exception and in the audit trail.
    explained = [exceptions["evt_lost_1"].pk, exceptions["evt_lost_2"].pk]
    resolved = ReconciliationException.objects.filter(pk__in=explained).order_by("pk")
    assert [(row.action, row.note, row.resolved_by_id, row.resolved_at is not None) for row in resolved] == [
        ("explain", NOTE, manager.pk, True)] * 2
    still_open = ReconciliationException.objects.filter(resolved_at__isnull=True).order_by("pk")
    assert [row.pk for row in still_open] == sorted([exceptions["evt_a1"].pk, exceptions["evt_c1"].pk])
    audit = AuditEvent.objects.filter(action="reconciliation_exception_resolved").order_by("object_id")
    assert [(row.actor_id, row.actor_label, row.address, row.object_type, row.object_id, row.before, row.after)
            for row in audit] == [
        (manager.pk, "mario.manager", "127.0.0.1", "reconciliation.reconciliationexception", str(pk),
         {"resolved": False}, {"resolved": True, "action": "explain", "note": NOTE})
        for pk in sorted(explained, key=str)]
    assert [row.detail["outcome"] for row in audit] == ["missing_from_ledger"] * 2

    # Explaining moves no money: every balance, to the cent, and not one posting more.
    assert balances() == before
    assert before[("res_a", "PEN")] == (9500, 14000)  # payable: 95.00 pending; 140.00 reserved by the run
    assert (Entry.objects.count(), Transaction.objects.count()) == (entries, transactions)
    assert not RestaurantBalance.objects.filter(restaurant_id="res_d").exists()

    # Back on the dashboard: two left.
    page.goto("/admin/")
    assert page.locator("#dashboard-reconciliation .reconciliation-open-count").inner_text() == "2"
