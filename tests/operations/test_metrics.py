"""`GET /metrics`: who may read it, and that its figures move with what the service does."""

import subprocess
import sys

import pytest
from django.test import override_settings
from prometheus_client.parser import text_string_to_metric_families

from ledger.integrity import ledger_check_run
from ledger.models import LedgerCheckResult
from payouts.models import Payout
from processor.models import Event
from tests.conftest import post_event
from tests.helpers import charge
from tests.payouts.helpers import run

TOKEN = "metrics-test-token-0123456789"


def scrape(client, token: str = TOKEN) -> dict[tuple[str, tuple], float]:
    """Every sample of the exposition: (name, sorted labels) → value."""
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain; version=")
    samples = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples, name: str, **labels) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


@override_settings(METRICS_TOKEN="", DEBUG=False)
def test_without_a_token_configured_metrics_are_404_with_debug_off(client):
    assert client.get("/metrics").status_code == 404
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer anything").status_code == 404


@override_settings(METRICS_TOKEN="", DEBUG=True)
@pytest.mark.django_db
def test_without_a_token_configured_metrics_are_open_with_debug_on(client):
    response = client.get("/metrics")
    assert response.status_code == 200
    assert b"mesa247_events_total" in response.content


@override_settings(METRICS_TOKEN=TOKEN)
@pytest.mark.parametrize("header", [None, "Bearer wrong-token", f"Token {TOKEN}", f"Basic {TOKEN}", "Bearer "])
def test_a_missing_or_wrong_token_is_401(client, header):
    extra = {"HTTP_AUTHORIZATION": header} if header is not None else {}
    response = client.get("/metrics", **extra)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="metrics"'
    assert b"mesa247_" not in response.content


@override_settings(METRICS_TOKEN=TOKEN)
@pytest.mark.django_db
def test_the_right_token_is_200_in_prometheus_text_format(client):
    samples = scrape(client)
    assert ("mesa247_events_total", (("event_type", "charge_succeeded"), ("outcome", "created"))) in samples


@override_settings(METRICS_TOKEN=TOKEN)
def test_only_get_is_allowed(client):
    assert client.post("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}").status_code == 405


@override_settings(METRICS_TOKEN=TOKEN)
@pytest.mark.django_db
def test_event_counters_move_with_the_events_sent(client, client_anon, event_payload):
    before = scrape(client)
    payload = event_payload()
    assert post_event(client_anon, payload).status_code == 201
    assert post_event(client_anon, payload).status_code == 200  # the processor's resend
    assert post_event(client_anon, {**payload, "amount": payload["amount"] + 1}).status_code == 409
    assert post_event(client_anon, {**payload, "event_id": "evt_metrics_bad", "amount": 12.5}).status_code == 400
    unknown_payout = {**payload, "event_id": "evt_metrics_422", "event_type": "payout_paid", "fee": 0,
                      "metadata": {"payout_id": "po_missing"}}
    assert post_event(client_anon, unknown_payout).status_code == 422
    after = scrape(client)

    def moved(event_type, outcome):
        labels = {"event_type": event_type, "outcome": outcome}
        return value(after, "mesa247_events_total", **labels) - value(before, "mesa247_events_total", **labels)

    assert moved("charge_succeeded", "created") == 1
    assert moved("charge_succeeded", "replay") == 1
    assert moved("charge_succeeded", "conflict") == 1
    assert moved("charge_succeeded", "rejected") == 1
    assert moved("payout_paid", "rejected") == 1
    assert Event.objects.count() == 1


@override_settings(METRICS_TOKEN=TOKEN)
@pytest.mark.django_db
def test_an_event_of_unknown_type_is_counted_as_invalid_not_as_a_new_label(client, client_anon, event_payload):
    before = scrape(client)
    for event_type in ("made_up_type", {"an": "object"}, ["a", "list"], None, 7):
        assert post_event(client_anon, {**event_payload(), "event_type": event_type}).status_code == 400
    assert post_event(client_anon, ["not", "an", "object"]).status_code == 400
    after = scrape(client)
    labels = {"event_type": "invalid", "outcome": "rejected"}
    assert value(after, "mesa247_events_total", **labels) - value(before, "mesa247_events_total", **labels) == 6
    assert not [key for key in after if ("event_type", "made_up_type") in key[1]]


@override_settings(METRICS_TOKEN=TOKEN)
@pytest.mark.django_db
def test_a_payout_run_moves_the_run_and_payout_counters(client, client_anon, django_capture_on_commit_callbacks):
    charge(restaurant_id="res_metrics_1", amount=12000, fee=600, at="2025-12-20T15:00:00Z")
    charge(restaurant_id="res_metrics_2", amount=9000, at="2025-12-20T15:00:00Z")
    before = scrape(client)
    result = run("2025-12-30", min_amount=5000)
    assert result.created == 2
    payout = Payout.objects.get(restaurant_id="res_metrics_1")
    paid = {"event_id": "evt_metrics_paid", "event_type": "payout_paid", "occurred_at": "2026-01-02T12:00:00Z",
            "restaurant_id": "res_metrics_1", "currency": "PEN", "amount": payout.amount,
            "metadata": {"payout_id": payout.pk}}
    with django_capture_on_commit_callbacks(execute=True):  # a payout's new status counts once committed
        assert post_event(client_anon, paid).status_code == 201
    after = scrape(client)

    def moved(name, **labels):
        return value(after, name, **labels) - value(before, name, **labels)

    assert moved("mesa247_payout_runs_total", currency="PEN", status="succeeded") == 1
    assert moved("mesa247_payout_run_duration_seconds_count", currency="PEN", status="succeeded") == 1
    assert moved("mesa247_payouts_total", currency="PEN", status="created") == 2
    assert moved("mesa247_payouts_total", currency="PEN", status="paid") == 1
    assert moved("mesa247_payouts_total", currency="PEN", status="failed") == 0


@override_settings(METRICS_TOKEN=TOKEN)
@pytest.mark.django_db
def test_the_last_ledger_check_result_and_its_age(client):
    samples = scrape(client)
    assert ("mesa247_ledger_check_ok", ()) not in samples  # never ran: absent, so absent() can alert on it
    ledger_check_run(store=True)
    samples = scrape(client)
    assert value(samples, "mesa247_ledger_check_ok") == 1
    assert value(samples, "mesa247_ledger_check_problems") == 0
    assert 0 <= value(samples, "mesa247_ledger_check_age_seconds") < 3600
    LedgerCheckResult.objects.create(ok=False, summary="1 problem", problems=[{"check": "x", "subject": "y",
                                                                               "detail": "z"}])
    samples = scrape(client)
    assert value(samples, "mesa247_ledger_check_ok") == 0
    assert value(samples, "mesa247_ledger_check_problems") == 1


@override_settings(METRICS_TOKEN=TOKEN)
@pytest.mark.django_db
def test_request_latency_is_observed_per_resolved_view(client):
    client.get("/healthz")
    client.get("/no/such/page")
    samples = scrape(client)
    assert value(samples, "mesa247_http_request_duration_seconds_count", view="healthz", status="2xx") >= 1
    assert value(samples, "mesa247_http_request_duration_seconds_count", view="unresolved", status="4xx") >= 1
    assert not [key for key in samples if ("view", "/no/such/page") in key[1]]


def test_sentry_is_initialised_only_when_its_dsn_is_set():
    """In a subprocess (settings are read once per process); a DSN on a closed local port, so no network."""
    code = ("import django, sentry_sdk; django.setup(); "
            "print(sentry_sdk.get_client().is_active(), sentry_sdk.get_client().dsn)")
    environment = {"DJANGO_SETTINGS_MODULE": "mesa247.settings", "DEBUG": "true", "DATABASE_URL": "postgres://x@127.0.0.1:9/x"}

    def active(**extra) -> str:
        import os

        result = subprocess.run([sys.executable, "-c", code], env={**os.environ, **environment, **extra},
                                capture_output=True, text=True, check=True)
        return result.stdout.strip()

    assert active(SENTRY_DSN="") == "False None"
    assert active(SENTRY_DSN="http://public@127.0.0.1:9/1") == "True http://public@127.0.0.1:9/1"
