"""The dashboard's reconciliation panel: the open exceptions' count, amount per currency and oldest age, red
when the oldest has been open longer than RECONCILIATION_GRACE_DAYS, linking into the queue's open ones.

On top of the money world (tests/admin/conftest.py), the processor's report "stl_dash" lists every one of
its events, but says evt_a1 was a charge of 125.00 (we hold 120.00), and lists three charges we never
received:
    evt_a1       PEN 125.00  mismatched (amount)          open
    evt_lost     PEN  80.00  missing from the ledger      open
    evt_usd_lost USD  30.00  missing from the ledger      open
    evt_void     PEN   1.00  missing from the ledger      explained (resolved: not counted)
→ 3 open: PEN 2 for 205.00, USD 1 for 30.00.
"""

import io
import re
from datetime import timedelta

import pytest
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from reconciliation.models import ReconciliationException
from reconciliation.resolutions import exception_resolve
from reconciliation.selectors import open_exceptions_summary
from reconciliation.services import report_receive, report_reconcile
from tests.admin.conftest import staff_user
from tests.reconciliation.conftest import event_line, line, report_csv

pytestmark = pytest.mark.django_db

QUEUE = "/admin/reconciliation/reconciliationexception/"


def reconcile(body: bytes) -> None:
    """Receive and reconcile a report in this process, as `manage.py reconcile` does."""
    report_reconcile(report_id=report_receive(stream=io.BytesIO(body), enqueue=False).report.pk)


def report_lines(world) -> list[dict]:
    """The report of the money world's events (payout events are confirmed through their payout's lines)."""
    categories = {"charge_succeeded": "charge", "refund_succeeded": "refund"}
    overrides = {"evt_a1": {"amount": 12500}}
    return [
        *(event_line(f"ln_{event.event_id}", event, categories[event.event_type], **overrides.get(event.event_id, {}))
          for event in world.events.values() if event.event_type in categories),
        line("ln_lost", "charge", "evt_lost", amount=8000, fee=400, restaurant_id="res_a"),
        line("ln_usd_lost", "charge", "evt_usd_lost", amount=3000, fee=150, restaurant_id="res_b", currency="USD"),
        line("ln_void", "charge", "evt_void", amount=100, restaurant_id="res_a"),
    ]


@pytest.fixture
def exceptions(money_world):
    reconcile(report_csv("stl_dash", report_lines(money_world)))
    void = ReconciliationException.objects.get(line__line_id="ln_void")
    exception_resolve(exception_id=void.pk, action="explain", note="Voided by the processor.",
                      user=staff_user("mario.manager", "Finance manager"))
    return {exception.line.source_id: exception
            for exception in ReconciliationException.objects.select_related("line")}


def opened(exception, *, ago: timedelta) -> None:
    ReconciliationException.objects.filter(pk=exception.pk).update(opened_at=timezone.now() - ago)


def test_the_summary_counts_and_sums_the_open_exceptions_per_currency_in_exact_integers(exceptions):
    assert sorted(exceptions) == ["evt_a1", "evt_lost", "evt_usd_lost", "evt_void"]
    opened(exceptions["evt_lost"], ago=timedelta(days=2))
    opened(exceptions["evt_usd_lost"], ago=timedelta(hours=5))
    opened(exceptions["evt_void"], ago=timedelta(days=30))  # resolved: neither counted nor the oldest
    now = timezone.now()

    summary = open_exceptions_summary(now=now)

    rows = [(row.currency, row.count, row.amount) for row in summary.currencies]
    assert rows == [("PEN", 2, 12500 + 8000), ("USD", 1, 3000)]
    assert all(type(row.amount) is int for row in summary.currencies)
    assert summary.count == 3
    pen, usd = summary.currencies
    assert pen.oldest_opened_at == ReconciliationException.objects.get(pk=exceptions["evt_lost"].pk).opened_at
    assert timedelta(days=2) <= pen.oldest_age < timedelta(days=2, minutes=1)
    assert timedelta(hours=5) <= usd.oldest_age < timedelta(hours=5, minutes=1)
    assert (summary.oldest_opened_at, summary.oldest_age) == (pen.oldest_opened_at, pen.oldest_age)
    assert (summary.grace, summary.overdue) == (timedelta(days=3), False)


def test_overdue_means_open_longer_than_the_grace_days(exceptions):
    now = timezone.now()
    ReconciliationException.objects.filter(resolved_at__isnull=True).update(opened_at=now - timedelta(hours=1))
    lost = ReconciliationException.objects.filter(pk=exceptions["evt_lost"].pk)

    lost.update(opened_at=now - timedelta(days=3))
    assert open_exceptions_summary(now=now).overdue is False  # exactly the grace: not yet older
    lost.update(opened_at=now - timedelta(days=3, seconds=1))
    assert open_exceptions_summary(now=now).overdue is True
    with override_settings(RECONCILIATION_GRACE_DAYS=5):
        assert open_exceptions_summary(now=now).overdue is False
    ReconciliationException.objects.filter(pk=exceptions["evt_lost"].pk).update(
        action="explain", note="Late.", resolved_at=now)
    assert open_exceptions_summary(now=now).overdue is False  # a resolved exception is no warning


def test_no_open_exception_is_an_empty_summary(db):
    summary = open_exceptions_summary()
    assert (summary.currencies, summary.count, summary.oldest_opened_at, summary.oldest_age, summary.overdue) == (
        [], 0, None, None, False)


def panel(page: str) -> str:
    match = re.search(r'<div class="module[^"]*" id="dashboard-reconciliation">(.*?)\n  </div>', page, re.S)
    assert match is not None, "no reconciliation panel on the dashboard"
    return match.group(0)


def panel_rows(html: str) -> dict[str, dict[str, str]]:
    rows = re.findall(r'<tr class="reconciliation-currency" data-currency="(\w+)">(.*?)</tr>', html, re.S)
    return {currency: {name: value.strip() for name, value in re.findall(r'<td class="money (\w+)"[^>]*>([^<]*)', row)}
            for currency, row in rows}


def test_the_panel_shows_the_count_amounts_and_ages_and_links_to_the_open_exceptions(exceptions, viewer_client):
    opened(exceptions["evt_lost"], ago=timedelta(days=2, hours=1))
    opened(exceptions["evt_usd_lost"], ago=timedelta(hours=5, minutes=1))

    html = panel(viewer_client.get(reverse("admin:index")).content.decode())

    assert 'class="module" id="dashboard-reconciliation"' in html  # not red: within the 3 grace days
    assert '<span class="reconciliation-open-count">3</span> open exceptions' in html
    assert f'href="{QUEUE}?state=open" id="reconciliation-open-link"' in html
    assert panel_rows(html) == {
        "PEN": {"count": "2", "amount": "PEN 205.00", "oldest": "2\xa0days, 1\xa0hour"},
        "USD": {"count": "1", "amount": "USD 30.00", "oldest": "5\xa0hours, 1\xa0minute"},
    }
    assert 'data-minor="20500"' in html and 'data-minor="3000"' in html
    assert f'href="{QUEUE}?state=open&amp;currency=USD"' in html
    assert "the oldest opened <span" in html and "2\xa0days, 1\xa0hour ago" in html


def test_the_panel_is_red_when_the_oldest_open_exception_is_older_than_the_grace_days(exceptions, viewer_client):
    opened(exceptions["evt_usd_lost"], ago=timedelta(days=3, hours=2))

    html = panel(viewer_client.get(reverse("admin:index")).content.decode())

    assert 'class="module reconciliation-overdue" id="dashboard-reconciliation"' in html
    assert "<h2>Reconciliation — exceptions open longer than 3 days</h2>" in html
    assert '<span class="reconciliation-oldest check-problems"' in html


def test_the_queue_link_shows_exactly_the_open_exceptions(exceptions, viewer_client):
    page = viewer_client.get(f"{QUEUE}?state=open")
    assert page.status_code == 200
    shown = {exception.pk for exception in page.context["cl"].result_list}
    assert shown == {exceptions[source].pk for source in ("evt_a1", "evt_lost", "evt_usd_lost")}


def test_without_open_exceptions_the_panel_says_so(money_world, viewer_client):
    html = panel(viewer_client.get(reverse("admin:index")).content.decode())
    assert '<span class="reconciliation-open-count">0</span> open exceptions</a>: every difference' in html
    assert 'class="reconciliation-currency"' not in html


def test_staff_who_may_not_read_the_queue_see_no_panel(exceptions, client, django_user_model):
    from django.contrib.auth.models import Permission

    user = django_user_model.objects.create_user(username="balances.only", password="x", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_restaurantbalance"))
    client.force_login(user)
    page = client.get(reverse("admin:index")).content.decode()
    assert "What we owe restaurants" in page
    assert 'id="dashboard-reconciliation"' not in page
