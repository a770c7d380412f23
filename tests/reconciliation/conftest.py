"""Settlement reports for the reconciliation tests: CSV text built from lines, uploaded through the API."""

import pytest
from django.conf import settings

from reconciliation.parsing import net_of
from tests.conftest import token_client_for
from tests.factories import UserFactory

HEADER = ("report_id", "line_id", "category", "source_id", "restaurant_id", "currency", "amount", "fee", "net",
          "occurred_at", "payment_id")
MANAGER_PERMS = ["reconciliation.view_settlementreport", "reconciliation.add_settlementreport",
                 "reconciliation.view_reconciliationexception", "reconciliation.change_reconciliationexception"]


def line(line_id: str, category: str, source_id: str, *, amount: int, fee: int = 0, restaurant_id: str = "res_001",
         currency: str = "PEN", occurred_at: str = "2025-12-01T15:00:00Z", payment_id: str = "",
         net: int | None = None) -> dict:
    return {"line_id": line_id, "category": category, "source_id": source_id, "restaurant_id": restaurant_id,
            "currency": currency, "amount": amount, "fee": fee,
            "net": net_of(category, amount, fee) if net is None else net, "occurred_at": occurred_at,
            "payment_id": payment_id}


def event_line(line_id: str, event, category: str = "charge", **overrides) -> dict:
    """The report's line for a stored event, as the processor would write it; `overrides` change fields."""
    fields = {"amount": event.amount, "fee": event.fee, "restaurant_id": event.restaurant_id,
              "currency": event.currency, "occurred_at": event.occurred_at.isoformat(),
              "payment_id": event.payment_id or "", **overrides}
    return line(line_id, category, event.event_id, **fields)


def payout_line(line_id: str, payout, category: str = "payout", **overrides) -> dict:
    fields = {"amount": payout.amount, "restaurant_id": payout.restaurant_id, "currency": payout.currency,
              "occurred_at": "2026-01-05T12:00:00Z", **overrides}
    return line(line_id, category, payout.pk, **fields)


def report_csv(report_id: str, lines: list[dict], header=HEADER) -> bytes:
    rows = [",".join(header)]
    rows += [",".join(str({"report_id": report_id, **item}[column]) for column in header) for item in lines]
    return ("\n".join(rows) + "\n").encode()


@pytest.fixture
def manager(db):
    return UserFactory(perms=MANAGER_PERMS)


@pytest.fixture
def manager_client(manager):
    return token_client_for(manager)


@pytest.fixture
def reconciled(manager_client, django_capture_on_commit_callbacks):
    """Upload a report and reconcile it at once (django-q2 in sync mode, its task run once the upload commits)."""

    def _upload(body: bytes):
        sync = {**settings.Q_CLUSTER, "sync": True}
        from django.test import override_settings

        with override_settings(Q_CLUSTER=sync), django_capture_on_commit_callbacks(execute=True):
            return manager_client.generic("POST", "/v1/reconciliation/reports", data=body, content_type="text/csv")

    return _upload
