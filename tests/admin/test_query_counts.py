"""No slow pages: every changelist runs a fixed number of queries, 200 rows or 2 per page."""

import pytest
from django.contrib import admin
from django.contrib.admin.utils import quote as admin_quote
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from ledger.models import Account, Adjustment, AdjustmentDecision, Entry, Restaurant, RestaurantBalance, Transaction
from payouts.models import Payout, PayoutRun
from processor.models import Event
from reconciliation.models import ReconciliationException
from tests.admin.conftest import at, ingest, run_payouts
from tests.admin.test_dashboard_reconciliation import reconcile
from tests.factories import UserFactory
from tests.reconciliation.conftest import line, report_csv

CHANGELIST_MODELS = [Event, Restaurant, RestaurantBalance, Account, Transaction, Entry, Payout, PayoutRun,
                     Adjustment, AdjustmentDecision]
# Session, user, permissions, the page's count and rows, and a filter or date hierarchy.
QUERY_BUDGET = 10
# The dashboard, one query each: session, user, second-factor device; open disputes, balances, payouts paid
# lately, daily flows, payouts paid per day, latest runs, last ledger check; the open reconciliation exceptions.
DASHBOARD_QUERY_BUDGET = 11
RESTAURANTS = 200


@pytest.fixture
def two_hundred_of_everything(db):
    """200+ rows of every money model, made through the services (runs in bulk)."""
    for n in range(RESTAURANTS):
        ingest(f"evt_q{n:03d}", "charge_succeeded", f"res_q{n:03d}", 10000 + n, fee=300, occurred_at=at(days=10),
               payment_id=f"pay_q{n:03d}")
    run_payouts(currency="PEN", min_amount=1)
    PayoutRun.objects.bulk_create(
        PayoutRun(currency="USD", as_of=timezone.localdate(), min_amount=100, status="succeeded")
        for _ in range(RESTAURANTS)
    )
    # Proposals and their (rejecting) decisions written in bulk: they move no money.
    manager = UserFactory(username="mario.manager", groups=["Finance manager"])
    approver = UserFactory(username="ana.approver", groups=["Finance approver"])
    proposals = Adjustment.objects.bulk_create(
        Adjustment(restaurant_id=f"res_q{n:03d}", currency="PEN", amount=100 + n, reason="goodwill_credit",
                   note="Query budget", proposed_by=manager)
        for n in range(RESTAURANTS)
    )
    AdjustmentDecision.objects.bulk_create(
        AdjustmentDecision(adjustment=proposal, decision="rejected", decided_by=approver) for proposal in proposals
    )
    for model in CHANGELIST_MODELS:
        assert model.objects.count() >= RESTAURANTS, model


def count_queries(client, url) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(captured.captured_queries)


def test_every_changelist_query_count_does_not_grow_with_the_page(
    two_hundred_of_everything, superuser_client, monkeypatch, django_assert_max_num_queries
):
    # One test for every changelist, so the 200-row world is built once.
    counts = {}
    for model in CHANGELIST_MODELS:
        model_admin = admin.site._registry[model]
        url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        superuser_client.get(url)  # warm the session

        monkeypatch.setattr(model_admin, "list_per_page", 200)
        with django_assert_max_num_queries(QUERY_BUDGET):
            response = superuser_client.get(url)
        assert len(response.context["cl"].result_list) == 200, url
        full_page = count_queries(superuser_client, url)

        monkeypatch.setattr(model_admin, "list_per_page", 2)
        counts[model.__name__] = (full_page, count_queries(superuser_client, url))
    assert {name: full for name, (full, _) in counts.items()} == {name: small for name, (_, small) in counts.items()}


def test_dashboard_query_count_does_not_grow_with_restaurants_runs_or_reconciliation_exceptions(
    money_world, superuser_client, django_assert_max_num_queries
):
    url = reverse("admin:index")
    superuser_client.get(url)
    small = count_queries(superuser_client, url)
    assert 'id="dashboard-reconciliation"' in superuser_client.get(url).content.decode()
    for n in range(30):
        ingest(f"evt_d{n}", "charge_succeeded", f"res_d{n}", 5000, fee=100, currency="MXN", occurred_at=at(days=9))
    run_payouts(currency="MXN", min_amount=1)
    run_payouts(currency="PEN", min_amount=1, as_of=timezone.localdate() - timezone.timedelta(days=1))
    # A report whose 30 lines the ledger never received, in two currencies (and every event older than the
    # grace days it does not list is missing from the reports): exceptions of every outcome, open.
    reconcile(report_csv("stl_q", [line(f"ln_q{n}", "charge", f"evt_unknown_{n}", amount=1000 + n,
                                        currency="PEN" if n % 2 else "USD") for n in range(30)]))
    assert ReconciliationException.objects.filter(resolved_at__isnull=True).values("currency").distinct().count() == 3
    with django_assert_max_num_queries(DASHBOARD_QUERY_BUDGET):
        superuser_client.get(url)
    assert count_queries(superuser_client, url) == small


def test_detail_pages_query_count_does_not_grow_with_their_lists(superuser_client):
    """A payout settling 2 events and one settling 30 cost the same queries; so do their transactions and balances."""
    for restaurant_id, events in (("res_few", 2), ("res_many", 30)):
        for n in range(events):
            ingest(f"evt_{restaurant_id}_{n}", "charge_succeeded", restaurant_id, 10000, fee=300,
                   occurred_at=at(days=10), payment_id=f"pay_{restaurant_id}_{n}")
    run_payouts(currency="PEN", min_amount=1)

    def detail_queries(model, pk) -> int:
        url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_change", args=[admin_quote(pk)])
        superuser_client.get(url)  # warm the session
        return count_queries(superuser_client, url)

    for model, lookup, payout_postings_only in (
        (Payout, "restaurant_id", {}),
        (RestaurantBalance, "restaurant_id", {}),
        (Restaurant, "id", {}),
        (Transaction, "restaurant_id", {"payout_id__isnull": False}),  # the payout's own transaction
    ):
        few, many = (model.objects.filter(**{lookup: rid}, **payout_postings_only).order_by("pk").first().pk
                     for rid in ("res_few", "res_many"))
        assert detail_queries(model, few) == detail_queries(model, many), model


def test_statement_download_query_count_does_not_grow_with_its_lines(superuser_client):
    """The CSV of 2 entries and of 60 cost the same queries: the lines come from one server-side cursor."""
    for restaurant_id, events in (("res_few", 1), ("res_many", 30)):
        for n in range(events):
            ingest(f"evt_{restaurant_id}_{n}", "charge_succeeded", restaurant_id, 10000, fee=300,
                   occurred_at=at(days=10), payment_id=f"pay_{restaurant_id}_{n}")

    def download_queries(restaurant_id: str) -> int:
        row = RestaurantBalance.objects.get(restaurant_id=restaurant_id)
        url = reverse("admin:ledger_restaurantbalance_statement", args=[admin_quote(row.pk)])
        superuser_client.get(url)  # warm the session
        with CaptureQueriesContext(connection) as captured:
            response = superuser_client.get(url)
            lines = b"".join(response.streaming_content).decode().splitlines()
        assert response.status_code == 200
        assert len(lines) == 3 + 2 * (1 if restaurant_id == "res_few" else 30)
        return len(captured.captured_queries)

    few = download_queries("res_few")
    assert few == download_queries("res_many")
    assert few <= QUERY_BUDGET
