"""The dashboard shows disputes: what they withdrew per day next to the refunds, and the open ones in the totals.

On top of the money world (tests/admin/conftest.py), res_a's PEN charges are disputed:
    dp_1  120.00 + fee 50.00, opened 10 days ago, won 4 days ago (amount back, fee kept)
    dp_2   80.00 + fee 50.00, opened 8 days ago, lost 3 days ago
    dp_3  100.00 + fee 50.00, opened 2 days ago, still open
and res_b's USD charge: dp_4 50.00 + fee 15.00, opened 5 days ago, still open.
"""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from payouts.admin_selectors import dashboard_get
from processor.selectors import disputes_open_totals
from tests.admin.conftest import at, ingest
from tests.admin.test_dashboard import currency_row

pytestmark = pytest.mark.django_db


def day(days: int) -> str:
    return timezone.localdate(timezone.now() - timedelta(days=days)).isoformat()


@pytest.fixture
def disputes(money_world):
    def dispute(number, event_type, amount, fee, days, *, currency="PEN", restaurant_id="res_a", payment=None):
        extra = {"payment_id": payment} if payment else {}
        ingest(f"evt_dp_{number}_{event_type}", event_type, restaurant_id, amount, fee=fee, currency=currency,
               occurred_at=at(days=days), dispute_id=f"dp_{number}", **extra)

    dispute(1, "dispute_opened", 12000, 5000, 10, payment="pay_a1")
    dispute(1, "dispute_won", 12000, 0, 4)
    dispute(2, "dispute_opened", 8000, 5000, 8, payment="pay_a2")
    dispute(2, "dispute_lost", 8000, 0, 3)
    dispute(3, "dispute_opened", 10000, 5000, 2, payment="pay_a3")
    dispute(4, "dispute_opened", 5000, 1500, 5, currency="USD", restaurant_id="res_b", payment="pay_b1")
    return money_world


def test_the_disputes_chart_shows_what_disputes_withdrew_less_what_won_ones_reinstated(disputes):
    charts = {row.currency: {chart.chart_id.split("-", 2)[2]: chart for chart in row.charts}
              for row in dashboard_get(now=timezone.now()).currencies}
    pen = {point.label: point.value for point in charts["PEN"]["disputes"].points if point.value}
    assert pen == {day(10): 17000, day(8): 13000, day(4): -12000, day(2): 15000}
    assert charts["PEN"]["disputes"].total == 33000  # 3 fees + the lost 80.00 + the open 100.00
    usd = charts["USD"]["disputes"]
    assert ({point.label: point.value for point in usd.points if point.value}, usd.total) == ({day(5): 6500}, 6500)
    assert charts["MXN"]["disputes"].total == 0
    # Refunds keep their own chart: a dispute is not a refund.
    assert charts["PEN"]["refunds"].total == 5000


def test_open_disputes_are_counted_in_the_totals_with_their_amount(disputes, viewer_client):
    assert disputes_open_totals() == {"PEN": (1, 10000), "USD": (1, 5000)}
    summary = {row.currency: row for row in dashboard_get(now=timezone.now(),
                                                           open_disputes=disputes_open_totals()).currencies}
    assert (summary["PEN"].open_disputes, summary["PEN"].open_disputes_amount) == (1, 10000)
    assert (summary["MXN"].open_disputes, summary["MXN"].open_disputes_amount) == (0, 0)

    page = viewer_client.get(reverse("admin:index")).content.decode()
    assert currency_row(page, "PEN")["open_disputes"] == "PEN 100.00"
    assert currency_row(page, "USD")["open_disputes"] == "USD 50.00"
    assert re.search(r'data-currency="PEN">.*?\(1 open\)', page, re.S)
    assert re.search(r'data-currency="MXN">.*?\(0 open\)', page, re.S)
    # The opened disputes already left the balances: res_a's 140.00 available is now 140.00 − 170.00
    # − 130.00 − 150.00 + 120.00, which is all reserved by the run, so PEN available is what is left.
    assert currency_row(page, "PEN")["available"] == "PEN -330.00"
