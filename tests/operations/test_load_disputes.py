"""The loader takes dispute events through the single-event service, in line order, with the API's answers."""

import json

import pytest

from ledger.selectors import balance_get
from processor.loading import events_load, jsonl_parse
from processor.models import Dispute, DisputeStatus
from tests.factories import EventPayloadFactory
from tests.processor.test_disputes import lost, opened, won

pytestmark = pytest.mark.django_db


def test_a_file_with_a_charge_its_dispute_and_decisions_loads_in_line_order():
    lines = [json.dumps(payload) for payload in (
        won(event_id="evt_early", amount=10000),  # before its opening: rejected, as the API's 422
        EventPayloadFactory(event_id="evt_c", restaurant_id="res_dp", amount=10000, fee=500,
                            occurred_at="2025-12-01T15:00:00Z", metadata={"payment_id": "pay_dp_1"}),
        opened(),
        won(amount=10000, fee=1500),
        lost(amount=10000),  # a second decision: rejected
        opened(),  # a replay
    )]

    summary = events_load(lines=jsonl_parse(lines))

    assert (summary.read, summary.counts) == (6, {"created": 3, "duplicate": 1, "conflict": 0, "rejected": 2})
    assert Dispute.objects.get().status == DisputeStatus.WON
    assert balance_get(restaurant_id="res_dp", currency="PEN").available == 9500
