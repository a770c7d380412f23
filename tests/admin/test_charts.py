"""The back office's charts hold the right numbers: the dashboard's daily figures per currency and a
restaurant's available balance at the end of each day, computed by PostgreSQL.

The money world (tests/admin/conftest.py), by local day of when each thing happened:
    res_a PEN  charges 120.00/6.00 (20 days ago), 80.00/4.00 (15), 100.00/5.00 (1); refund 50.00 (12)
    res_c PEN  charge 500.00/20.00 (25 days ago); its payout of 480.00 paid an hour ago
    res_b USD  charge 50.00/2.50 (20 days ago), refund 50.00 (19)
"""

from datetime import timedelta

import pytest
from django.contrib.admin.utils import quote
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from ledger.admin_selectors import available_balance_daily
from ledger.models import RestaurantBalance
from ledger.selectors import balance_get
from payouts.admin_selectors import dashboard_get
from payouts.models import Payout

pytestmark = pytest.mark.django_db


def day(**delta):
    return timezone.localdate(timezone.now() - timedelta(**delta))


def bars(chart) -> dict:
    return {point.label: point.value for point in chart.points if point.value}


def test_dashboard_charts_show_thirty_days_of_sales_fees_refunds_and_payouts(money_world):
    dashboard = dashboard_get(now=timezone.now())
    charts = {row.currency: {chart.chart_id.split("-", 2)[2]: chart for chart in row.charts}
              for row in dashboard.currencies}
    assert list(charts) == ["PEN", "USD", "MXN"]
    for by_figure in charts.values():
        assert list(by_figure) == ["gross_sales", "fees", "refunds", "disputes", "payouts"]
        assert {len(chart.points) for chart in by_figure.values()} == {30}
        assert by_figure["gross_sales"].points[-1].label == timezone.localdate().isoformat()

    pen = charts["PEN"]
    assert bars(pen["gross_sales"]) == {
        day(days=25).isoformat(): 50000, day(days=20).isoformat(): 12000,
        day(days=15).isoformat(): 8000, day(days=1).isoformat(): 10000,
    }
    assert bars(pen["fees"]) == {
        day(days=25).isoformat(): 2000, day(days=20).isoformat(): 600,
        day(days=15).isoformat(): 400, day(days=1).isoformat(): 500,
    }
    assert bars(pen["refunds"]) == {day(days=12).isoformat(): 5000}
    paid_at = Payout.objects.get(restaurant_id="res_c").paid_at
    assert bars(pen["payouts"]) == {timezone.localdate(paid_at).isoformat(): 48000}
    assert (pen["gross_sales"].total, pen["fees"].total, pen["refunds"].total, pen["payouts"].total) == (
        80000, 3500, 5000, 48000)

    assert pen["disputes"].total == 0
    usd = charts["USD"]
    assert (usd["gross_sales"].total, usd["fees"].total, usd["refunds"].total, usd["payouts"].total) == (
        5000, 250, 5000, 0)
    assert {chart.total for chart in charts["MXN"].values()} == {0}


def test_a_fee_returned_on_a_refund_lowers_the_fees_of_its_day(money_world):
    from tests.admin.conftest import at, ingest

    ingest("evt_fr", "refund_succeeded", "res_c", 1000, fee=300, occurred_at=at(days=3), payment_id="pay_c1")
    pen = next(row for row in dashboard_get(now=timezone.now()).currencies if row.currency == "PEN")
    fees = next(chart for chart in pen.charts if chart.chart_id.endswith("fees"))
    refunds = next(chart for chart in pen.charts if chart.chart_id.endswith("refunds"))
    assert bars(fees)[day(days=3).isoformat()] == -300
    assert bars(refunds)[day(days=3).isoformat()] == 1000


def test_balance_chart_is_the_available_balance_at_the_end_of_each_local_day(money_world):
    today = timezone.localdate()
    points = available_balance_daily(restaurant_id="res_a", currency="PEN", first_day=today - timedelta(days=89),
                                     last_day=today)
    assert len(points) == 90
    assert points[0][0] == today - timedelta(days=89) and points[-1][0] == today
    # What became available, and when: each charge (gross − fee) when it matured 7 days after it
    # occurred, the refund when it occurred, the payout's reserve when the run created it (today).
    changes = [(day(days=13), 11400), (day(days=12), -5000), (day(days=8), 7600), (today, -14000)]
    expected = [(d, sum(amount for when, amount in changes if when <= d)) for d, _ in points]
    assert points == expected
    assert points[-1][1] == balance_get(restaurant_id="res_a", currency="PEN").available == 0


def test_balance_chart_reads_only_recent_entries_and_starts_from_the_projection(money_world):
    """A window that starts after all the history still starts at the right balance."""
    today = timezone.localdate()
    points = available_balance_daily(restaurant_id="res_c", currency="PEN", first_day=today - timedelta(days=2),
                                     last_day=today)
    assert [amount for _, amount in points] == [48000, 48000, 0]  # 480.00 available until today's payout
    points = available_balance_daily(restaurant_id="res_b", currency="USD", first_day=today - timedelta(days=2),
                                     last_day=today)
    assert [amount for _, amount in points] == [-250, -250, -250]
    points = available_balance_daily(restaurant_id="res_b", currency="MXN", first_day=today, last_day=today)
    assert points == [(today, 0)]


def test_restaurant_balance_page_shows_the_chart_latest_lines_and_statement_links(money_world, viewer_client):
    row = RestaurantBalance.objects.get(restaurant_id="res_a", currency="PEN")
    url = reverse("admin:ledger_restaurantbalance_change", args=[quote(row.pk)])
    viewer_client.get(url)
    with CaptureQueriesContext(connection) as captured:
        response = viewer_client.get(url)
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count('class="chart-point') == 90
    assert html.count('class="statement-line"') == 8  # 2 + 2 + 1 + 2 charge/refund entries and the reserve
    assert html.count('class="statement-download"') == 4
    # Session, user, second-factor device, the balance, the user's and its groups' permissions; the chart, the
    # latest lines; the rows other apps add: disputes, open payouts, open reconciliation exceptions.
    assert len(captured.captured_queries) <= 11


def test_dashboard_renders_fifteen_charts_of_thirty_bars(money_world, viewer_client):
    response = viewer_client.get(reverse("admin:index"))
    html = response.content.decode()
    assert html.count('<figure class="finance-chart"') == 15
    assert html.count('class="chart-bar') == 15 * 30
    assert html.count("<details class=\"chart-data\">") == 15


def test_the_statement_downloads_from_the_restaurant_balance_page(money_world, viewer_client):
    row = RestaurantBalance.objects.get(restaurant_id="res_a", currency="PEN")
    url = reverse("admin:ledger_restaurantbalance_statement", args=[quote(row.pk)])
    today = timezone.localdate()
    response = viewer_client.get(url, {"from": (today - timedelta(days=89)).isoformat(), "to": today.isoformat()})
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    lines = b"".join(response.streaming_content).decode().splitlines()
    assert len(lines) == 1 + 1 + 8 + 1  # header, opening, the 8 entries, closing
    assert lines[-1].split(",")[5:9] == ["closing_balance", "", "", "9500"]  # 95.00 pending, 0 available
    bad = viewer_client.get(url, {"from": "2026-02-30", "to": today.isoformat()})
    assert bad.status_code == 400


def test_the_statement_download_needs_view_entry(money_world, client):
    from django.contrib.auth.models import Permission

    from tests.admin.conftest import staff_user

    user = staff_user("no.entries", "Finance viewer")
    user.groups.clear()
    user.user_permissions.add(Permission.objects.get(codename="view_restaurantbalance"))
    client.force_login(user)
    row = RestaurantBalance.objects.get(restaurant_id="res_a", currency="PEN")
    response = client.get(reverse("admin:ledger_restaurantbalance_statement", args=[quote(row.pk)]))
    assert response.status_code == 403
