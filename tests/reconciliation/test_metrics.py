"""`/metrics` shows the open reconciliation exceptions by outcome."""

import pytest
from django.test import override_settings

from tests.operations.test_metrics import TOKEN, scrape, value

from .conftest import line, report_csv


@override_settings(METRICS_TOKEN=TOKEN)
@pytest.mark.django_db
def test_open_exceptions_by_outcome_move_as_reports_come_and_exceptions_are_resolved(client, reconciled,
                                                                                     manager_client):
    assert value(scrape(client), "mesa247_reconciliation_open_exceptions", outcome="missing_from_ledger") == 0
    reconciled(report_csv("stl_1", [line("ln_1", "charge", "evt_a", amount=100),
                                    line("ln_2", "charge", "evt_b", amount=200)]))

    samples = scrape(client)
    assert value(samples, "mesa247_reconciliation_open_exceptions", outcome="missing_from_ledger") == 2
    assert value(samples, "mesa247_reconciliation_open_exceptions", outcome="mismatched") == 0
    exception_id = manager_client.get("/v1/reconciliation/exceptions").json()["results"][0]["exception_id"]
    manager_client.post(f"/v1/reconciliation/exceptions/{exception_id}/resolve",
                        {"action": "explain", "note": "Voided."}, format="json")
    assert value(scrape(client), "mesa247_reconciliation_open_exceptions", outcome="missing_from_ledger") == 1
