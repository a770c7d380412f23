"""The admin index is a dashboard: what we owe per currency, recent payouts, runs and the ledger check."""

import re

from django.urls import reverse
from django.utils import timezone

from payouts.admin_selectors import dashboard_get


def currency_row(page: str, currency: str) -> dict[str, str]:
    match = re.search(rf'<tr data-currency="{currency}">(.*?)</tr>', page, re.S)
    assert match is not None, f"no {currency} row on the dashboard"
    row = match.group(1)
    cells = dict(re.findall(r'<td class="money (\w+)">([^<]*)', row))
    return {name: value.strip() for name, value in cells.items()}


def test_dashboard_totals_per_currency(money_world, viewer_client):
    page = viewer_client.get(reverse("admin:index")).content.decode()
    assert currency_row(page, "PEN") == {
        "available": "PEN 0.00",
        "pending": "PEN 95.00",
        "reserved": "PEN 140.00",
        "paid": "PEN 480.00",
        "open_disputes": "PEN 0.00",
    }
    assert currency_row(page, "USD") == {
        "available": "USD -2.50",
        "pending": "USD 0.00",
        "reserved": "USD 0.00",
        "paid": "USD 0.00",
        "open_disputes": "USD 0.00",
    }
    assert currency_row(page, "MXN")["available"] == "MXN 0.00"


def test_dashboard_figures_are_exact_integers(money_world):
    summary = {row.currency: row for row in dashboard_get(now=timezone.now()).currencies}
    pen, usd = summary["PEN"], summary["USD"]
    assert (pen.available, pen.pending, pen.reserved, pen.paid_recently, pen.paid_recently_count) == (
        0, 9500, 14000, 48000, 1
    )
    assert (usd.available, usd.pending, usd.reserved, usd.restaurants_owing) == (-250, 0, 0, 1)


def test_dashboard_lists_the_latest_runs_with_their_status(money_world, viewer_client):
    page = viewer_client.get(reverse("admin:index")).content.decode()
    assert reverse("admin:payouts_payoutrun_change", args=[money_world.run.pk]) in page
    assert '<td class="status-succeeded">Succeeded' in page


def test_dashboard_says_when_no_ledger_check_has_run(money_world, viewer_client):
    page = viewer_client.get(reverse("admin:index")).content.decode()
    assert "No ledger check has run yet" in page


def test_staff_without_money_permissions_see_no_figures(money_world, client, django_user_model):
    user = django_user_model.objects.create_user(username="helpdesk", password="x", is_staff=True)
    client.force_login(user)
    page = client.get(reverse("admin:index")).content.decode()
    assert "What we owe restaurants" not in page


def test_dashboard_shows_the_last_ledger_check(money_world, viewer_client):
    from ledger.integrity import ledger_check_run
    from ledger.models import LedgerCheckResult

    report = ledger_check_run()
    assert report.ok
    page = viewer_client.get(reverse("admin:index")).content.decode()
    assert '<span class="check-ok">OK</span>' in page
    assert report.summary in page

    failed = LedgerCheckResult.objects.create(
        ok=False,
        summary="1 problem: transaction #9 does not sum to zero",
        problems=[{"check": "unbalanced_transaction", "subject": "transaction 9", "detail": "sums to 100"}],
    )
    page = viewer_client.get(reverse("admin:index")).content.decode()
    assert '<span class="check-problems">Problems found</span>' in page
    assert "1 problem: transaction #9 does not sum to zero" in page
    detail = viewer_client.get(reverse("admin:ledger_ledgercheckresult_change", args=[failed.pk])).content.decode()
    assert "unbalanced_transaction" in detail
    assert "sums to 100" in detail


def test_a_failing_ledger_check_turns_the_check_panel_red(money_world, viewer_client):
    from ledger.integrity import ledger_check_run
    from ledger.models import RestaurantBalance

    ledger_check_run()
    page = viewer_client.get(reverse("admin:index")).content.decode()
    assert '<div class="module" id="dashboard-ledger-check">' in page
    assert "<h2>Ledger check</h2>" in page

    RestaurantBalance.objects.filter(restaurant_id="res_a", currency="PEN").update(payable=1)  # a manual "fix"
    assert not ledger_check_run().ok
    page = viewer_client.get(reverse("admin:index")).content.decode()
    assert '<div class="module check-failed" id="dashboard-ledger-check">' in page
    assert "<h2>Ledger check — failing</h2>" in page
    assert "payable_projection" in page
