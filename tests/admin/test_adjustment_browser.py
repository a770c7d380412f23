"""The four-eyes adjustment flow in a real headless Chromium: a manager proposes, an approver approves.

Screenshots of the pending and approved adjustment pages go to tests/artifacts/.
"""


import pytest
from django.contrib.admin.utils import quote

from ledger.models import Adjustment, Transaction
from ledger.selectors import balance_get
from tests.admin.conftest import FINANCE_MANAGER, at, ingest, staff_user
from tests.admin.test_browser import ARTIFACTS, allow_orm_beside_playwright, browser, log_in, page  # noqa: F401
from tests.helpers import migration_data_ensure

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_manager_proposes_and_a_different_approver_approves_in_the_browser(page):  # noqa: F811
    # A transactional test's flush removes the groups the data migrations made: make them again.
    migration_data_ensure()
    ingest("evt_r1", "charge_succeeded", "res_r", 12000, fee=600, occurred_at=at(days=20))
    staff_user("mario.manager", FINANCE_MANAGER)
    approver = staff_user("ana.approver", "Finance approver")

    log_in(page, "mario.manager")
    page.goto("/admin/ledger/adjustment/add/")
    page.fill("#id_restaurant_id", "res_r")
    page.select_option("#id_currency", "PEN")
    page.fill("#id_amount", "1500")
    page.select_option("#id_reason", "goodwill_credit")
    page.fill("#id_note", "Table double-booked")
    page.click("input[name=_save]")
    page.wait_for_url("**/change/")
    adjustment = Adjustment.objects.get()
    assert "Another Finance approver must approve it" in page.locator(".messagelist").inner_text()
    assert "You proposed this adjustment" in page.locator("#adjustment-decision").inner_text()
    assert page.locator("#adjustment-approve").count() == 0
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "adjustment-pending.png"), full_page=True)

    page.context.clear_cookies()
    log_in(page, approver.username)
    page.goto(f"/admin/ledger/adjustment/{quote(adjustment.pk)}/change/")
    page.click("#adjustment-approve")
    page.wait_for_url(f"**/admin/ledger/adjustment/{quote(adjustment.pk)}/change/")
    assert f"Adjustment #{adjustment.pk} approved." in page.locator(".messagelist").inner_text()
    assert "Approved" in page.locator("div.form-row.field-status_display").inner_text()
    page.screenshot(path=str(ARTIFACTS / "adjustment-approved.png"), full_page=True)

    assert Transaction.objects.filter(adjustment=adjustment).count() == 1
    assert balance_get(restaurant_id="res_r", currency="PEN").available == 12900
