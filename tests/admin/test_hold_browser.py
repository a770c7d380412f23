"""Placing and releasing a payout hold in a real headless Chromium: one manager holds, a second releases.

Screenshots of the held and released hold pages go to tests/artifacts/.
"""

import pytest

from ledger.selectors import balance_get
from payouts.models import PayoutHold, PayoutHoldRelease
from tests.admin.conftest import FINANCE_MANAGER, at, ingest, staff_user
from tests.admin.test_browser import ARTIFACTS, allow_orm_beside_playwright, browser, log_in, page  # noqa: F401
from tests.helpers import migration_data_ensure

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_manager_holds_payouts_and_a_second_manager_releases_them_in_the_browser(page):  # noqa: F811
    migration_data_ensure()
    ingest("evt_hb1", "charge_succeeded", "res_hb", 12000, fee=600, occurred_at=at(days=20))
    staff_user("ana.manager", FINANCE_MANAGER)
    staff_user("bruno.manager", FINANCE_MANAGER)

    log_in(page, "ana.manager")
    page.goto("/admin/payouts/payouthold/add/")
    page.fill("#id_restaurant_id", "res_hb")
    page.select_option("#id_currency", "")
    page.fill("#id_reason", "Chargeback investigation")
    page.click("input[name=_save]")
    page.wait_for_url("**/change/")
    hold = PayoutHold.objects.get()
    assert "Another finance manager must release the hold" in page.locator(".messagelist").inner_text()
    assert "You placed this hold" in page.locator("#hold-release").inner_text()
    assert page.locator("#hold-release-button").count() == 0
    assert balance_get(restaurant_id="res_hb", currency="PEN").payouts_held is True
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "hold-active.png"), full_page=True)

    page.context.clear_cookies()
    log_in(page, "bruno.manager")
    page.goto(f"/admin/payouts/payouthold/{hold.pk}/change/")
    page.click("#hold-release-button")
    page.wait_for_url(f"**/admin/payouts/payouthold/{hold.pk}/change/")
    assert f"Hold #{hold.pk} released" in page.locator(".messagelist").inner_text()
    assert "Released" in page.locator("div.form-row.field-status_display").inner_text()
    assert "bruno.manager" in page.locator("div.form-row.field-released_by_display").inner_text()
    page.screenshot(path=str(ARTIFACTS / "hold-released.png"), full_page=True)

    assert PayoutHoldRelease.objects.get().released_by.username == "bruno.manager"
    balance = balance_get(restaurant_id="res_hb", currency="PEN")
    assert (balance.payouts_held, balance.available) == (False, 11400)
