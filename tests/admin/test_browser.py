"""The back office in a real headless Chromium, against a live server with data made by the services.

Runs Debian's chromium through Playwright (no browser download). Screenshots of
the dashboard and of a payout page are written to tests/artifacts/ on every run.
The server runs the test settings (DEBUG off): staff sign in with a password and a
TOTP code, and every page is served under the Content-Security-Policy, whose
violations the browser reports (`csp_violations`).
"""

import os
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.admin.utils import quote
from django.contrib.auth.models import User
from django.test import override_settings
from django.utils import timezone
from playwright import sync_api

from payouts.models import PayoutRun
from staff.devices import totp_device_create, totp_secret
from tests.admin.conftest import (
    FINANCE_MANAGER,
    FINANCE_VIEWER,
    PASSWORD,
    at,
    ingest,
    money_world_build,
    staff_user,
)
from tests.admin.signin_helpers import totp_code
from tests.conftest import machine_service_missing

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking"]
ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"
LEDGER_PAGES = ["restaurant", "restaurantbalance", "account", "transaction", "entry"]


@pytest.fixture(scope="module", autouse=True)
def allow_orm_beside_playwright():
    """Playwright's sync API keeps an event loop running in this thread, so Django would
    refuse the test's own (plain, synchronous) ORM calls; allow them in this module only."""
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    yield
    if previous is None:
        del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]
    else:
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        machine_service_missing(f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


# Every Content-Security-Policy violation of a page, as the page itself sees it (securitypolicyviolation
# events), and as Chromium reports it on the console (which covers what the page cannot see).
RECORD_CSP_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
    window.__cspViolations.push(
        `${event.violatedDirective} ${event.blockedURI} ${event.sourceFile}:${event.lineNumber}`);
});
"""


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1400, "height": 900})
    context.set_default_timeout(10_000)
    context.add_init_script(RECORD_CSP_VIOLATIONS)
    page = context.new_page()
    page.csp_console = []
    page.on("console", lambda message: "Content Security Policy" in message.text
            and page.csp_console.append(message.text))
    yield page
    context.close()


def csp_violations(page) -> list[str]:
    """The policy violations of the current page, and every one reported on the console so far."""
    return page.evaluate("window.__cspViolations || []") + page.csp_console


def log_in(page, username: str) -> None:
    """Sign in as staff do: password and the current code of a new authenticator."""
    secret = totp_secret(totp_device_create(user=User.objects.get(username=username), confirmed=True))
    page.goto("/admin/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.fill("#id_otp_token", totp_code(secret))
    page.click("input[type=submit]")
    page.wait_for_url("**/admin/")


def shown_event_ids(page) -> list[str]:
    return sorted(page.locator("#result_list tbody th.field-event_id").all_inner_texts())


def test_a_finance_viewer_reviews_events_payouts_and_a_read_only_ledger(page):
    world = money_world_build()
    staff_user("fiona.viewer", FINANCE_VIEWER)
    log_in(page, "fiona.viewer")

    # Events: filter by type, then by currency, from the filter sidebar.
    page.goto("/admin/processor/event/")
    assert len(shown_event_ids(page)) == len(world.events)
    filters = page.locator("#changelist-filter")
    filters.get_by_role("link", name="Refund succeeded", exact=True).click()
    page.wait_for_url("**event_type__exact=refund_succeeded**")
    assert shown_event_ids(page) == ["evt_a3", "evt_b2"]
    filters.get_by_role("link", name="USD", exact=True).click()
    page.wait_for_url("**currency=USD**")
    assert shown_event_ids(page) == ["evt_b2"]
    assert "USD 50.00" in page.locator("#result_list").inner_text()

    # A payout: its items add up to its amount.
    page.goto("/admin/payouts/payout/")
    page.get_by_role("link", name=world.payout_a.pk, exact=True).click()
    page.wait_for_url(f"**/admin/payouts/payout/{quote(world.payout_a.pk)}/change/")
    amount = int(page.locator(".payout-amount").get_attribute("data-minor"))
    items = [int(value) for value in page.locator(".payout-item-amount").evaluate_all(
        "spans => spans.map(span => span.dataset.minor)")]
    assert amount == 14000
    assert len(items) == 6  # every item type, adjustments included
    assert sum(items) == amount
    assert "PEN 140.00" in page.locator("div.form-row.field-amount_display").inner_text()
    assert "equals the amount" in page.locator("div.form-row.field-items_check").inner_text()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "payout.png"), full_page=True)

    # The ledger: no add, change or delete control on any page.
    for model in LEDGER_PAGES:
        page.goto(f"/admin/ledger/{model}/")
        assert page.locator("#result_list tbody tr").count() > 0, model
        assert_no_editing_controls(page, model)
        page.locator("#result_list tbody tr").first.locator("th a, td a").first.click()
        page.wait_for_url("**/change/**")
        assert_no_editing_controls(page, model)


def assert_no_editing_controls(page, where: str) -> None:
    content = page.locator("#content")
    assert content.locator("a.addlink").count() == 0, where
    assert content.locator("a.deletelink").count() == 0, where
    assert content.locator("input[name=_save], input[name=_continue], input[name=_addanother]").count() == 0, where
    assert content.locator("select[name=action] option[value=delete_selected]").count() == 0, where
    assert content.locator("input:not([type=hidden]):not([name=q]):not([type=submit]), textarea").count() == 0, where


def test_a_finance_manager_starts_a_payout_run_and_sees_it_succeed(page):
    ingest("evt_m1", "charge_succeeded", "res_m", 30000, fee=1500, occurred_at=at(days=10), payment_id="pay_m1")
    ingest("evt_m2", "charge_succeeded", "res_n", 9000, fee=300, occurred_at=at(days=9), payment_id="pay_m2")
    staff_user("mario.manager", FINANCE_MANAGER)
    log_in(page, "mario.manager")

    page.goto("/admin/payouts/payoutrun/")
    page.click("#run-payouts-link")
    page.wait_for_url("**/admin/payouts/payoutrun/run/")
    page.select_option("#id_currency", "PEN")
    page.fill("#id_as_of", timezone.localdate().isoformat())
    page.fill("#id_min_amount", "10000")
    # The worker runs in sync mode: the task executes once the run's transaction commits.
    with override_settings(Q_CLUSTER={**settings.Q_CLUSTER, "sync": True}):
        page.click("input[name=_run]")
        page.wait_for_url("**/admin/payouts/payoutrun/*/change/")
    run = PayoutRun.objects.get()
    assert str(run.pk) in page.url
    assert "queued for PEN" in page.locator("ul.messagelist").inner_text()

    page.goto("/admin/payouts/payoutrun/")
    row = page.locator("#result_list tbody tr").first
    for _ in range(20):
        if row.locator("td.field-status").inner_text() == "Succeeded":
            break
        page.wait_for_timeout(250)
        page.reload()
    assert row.locator("td.field-status").inner_text() == "Succeeded"
    assert row.locator("td.field-created").inner_text() == "1"  # res_n's 87.00 is under the minimum
    assert row.locator("td.field-skipped").inner_text() == "1"
    assert row.locator("td.field-total_amount_display").inner_text() == "PEN 285.00"

    page.goto("/admin/")
    assert "Succeeded" in page.locator("#dashboard-runs").inner_text()
    pen = page.locator('#dashboard-currencies tr[data-currency="PEN"]')
    assert pen.locator("td.reserved").inner_text() == "PEN 285.00"
    assert pen.locator("td.available").inner_text() == "PEN 87.00"
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "dashboard.png"), full_page=True)


def test_a_failing_ledger_check_is_red_on_the_dashboard_and_a_manager_pauses_a_schedule(page):
    from django_q.models import Schedule

    from ledger.integrity import ledger_check_run
    from ledger.models import RestaurantBalance
    from tests.helpers import migration_data_ensure

    money_world_build()
    migration_data_ensure()  # the schedules and group permissions, as the migrations made them
    staff_user("mario.manager", FINANCE_MANAGER)
    RestaurantBalance.objects.filter(restaurant_id="res_a", currency="PEN").update(payable=1)
    assert not ledger_check_run().ok
    log_in(page, "mario.manager")

    panel = page.locator("#dashboard-ledger-check")
    assert "failing" in panel.locator("h2").inner_text()
    assert panel.evaluate("node => getComputedStyle(node).borderTopColor") == "rgb(186, 33, 33)"
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "dashboard-ledger-check-failing.png"), full_page=True)

    page.goto("/admin/django_q/schedule/")
    row = page.locator("#result_list tbody tr", has_text="payouts: daily run PEN")
    row.locator("input.action-select").check()
    page.select_option("select[name=action]", "pause")
    page.click("button[name=index]")
    page.wait_for_url("**/admin/django_q/schedule/")
    assert "1 schedule(s) paused." in page.locator("ul.messagelist").inner_text()
    assert "paused" in page.locator("#result_list tbody tr", has_text="payouts: daily run PEN").inner_text()
    page.screenshot(path=str(ARTIFACTS / "schedules.png"), full_page=True)
    assert Schedule.objects.get(name="payouts: daily run PEN").repeats == 0


def test_a_finance_viewer_reads_the_charts_and_downloads_a_statement(page):
    money_world_build()
    staff_user("fiona.viewer", FINANCE_VIEWER)
    log_in(page, "fiona.viewer")
    ARTIFACTS.mkdir(exist_ok=True)

    # The dashboard: per currency, five charts of one bar per day for the last 30 days.
    charts = page.locator("#dashboard-charts figure.finance-chart")
    assert charts.count() == 15
    for currency in ("PEN", "USD", "MXN"):
        for figure in ("gross_sales", "fees", "refunds", "disputes", "payouts"):
            chart = page.locator(f"#chart-{currency}-{figure}")
            assert chart.locator("svg").is_visible()
            assert chart.locator("svg rect.chart-bar").count() == 30
    gross = page.locator("#chart-PEN-gross_sales")
    heights = gross.locator("rect.chart-bar").evaluate_all("bars => bars.map(bar => bar.getBBox().height)")
    assert sum(1 for height in heights if height > 0) == 4  # four days with sales
    gross.locator("summary").click()
    cells = gross.locator("td[data-minor]").evaluate_all("cells => cells.map(cell => Number(cell.dataset.minor))")
    assert len(cells) == 30 and sum(cells) == 80000
    page.screenshot(path=str(ARTIFACTS / "dashboard-charts.png"), full_page=True)
    assert csp_violations(page) == []

    # A restaurant's balance page: 90 days of available balance, its latest lines, the statement.
    page.goto("/admin/ledger/restaurantbalance/?q=res_a")
    page.locator("#result_list tbody tr").first.locator("th a").click()
    page.wait_for_url("**/change/**")
    line = page.locator("#chart-available-balance")
    assert line.locator("svg polyline.chart-line").is_visible()
    assert line.locator("svg circle.chart-point").count() == 90
    assert line.locator("circle.chart-point").last.get_attribute("data-value") == "0"
    assert page.locator("tr.statement-line").count() == 8
    page.screenshot(path=str(ARTIFACTS / "restaurant-balance.png"), full_page=True)
    assert csp_violations(page) == []
    with page.expect_download() as download_info:
        page.get_by_role("link", name="last 90 days").click()
    download = download_info.value
    assert download.suggested_filename.startswith("statement-res_a-PEN-")
    rows = Path(download.path()).read_text(encoding="utf-8-sig").splitlines()
    assert len(rows) == 11  # header, opening, 8 entries, closing
    assert rows[-1].split(",")[5] == "closing_balance"


def test_the_api_docs_render_under_the_content_security_policy(page):
    response = page.goto("/api/docs/")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    page.locator(".swagger-ui .info .title", has_text="Mesa 24/7 Payments API").wait_for()
    page.locator(".opblock-summary-path", has_text="/v1/restaurants/{restaurant_id}/balance").first.click()
    page.locator(".opblock-body").first.wait_for()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "api-docs.png"), full_page=True)
    assert csp_violations(page) == []


def test_a_password_alone_does_not_open_the_back_office(page):
    staff_user("fiona.viewer", FINANCE_VIEWER)
    totp_device_create(user=User.objects.get(username="fiona.viewer"), confirmed=True)
    page.goto("/admin/login/")
    page.fill("#id_username", "fiona.viewer")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    assert "Enter the code of your authenticator app." in page.locator("#content").inner_text()
    page.goto("/admin/")
    assert "/admin/login/" in page.url
    assert csp_violations(page) == []
