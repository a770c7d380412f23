"""A payout webhook that arrives after a report resolution already applied its status: 200, no money moves.

Finance marks a payout paid (or returned) from the settlement report with apply_payout_status; the processor's
own payout_paid (payout_failed) comes later with an event id of its own. It is stored and confirms the report's
posting: 200, one posting only, balances unchanged, ledger_check clean; its resend is an ordinary replay. A
webhook that disagrees with the payout, or a second one for the same status, is refused as ever (422).
"""

import json
from collections import Counter

import pytest

from ledger.models import Entry, Transaction
from payouts.models import Payout
from processor.models import Event, PayoutEventConfirmation
from tests.conftest import assert_problem, post_event
from tests.helpers import charge
from tests.payouts.helpers import payout_failed_payload, payout_paid_payload, run
from tests.processor.test_concurrency import post_all_at_once

from .conftest import payout_line, report_csv
from .test_resolutions import assert_ledger_check_clean, only_exception, resolve

RESTAURANT = "res_po"


@pytest.fixture
def reader(token_client):
    return token_client("ledger.view_restaurantbalance", "payouts.view_payout")


def balance(reader) -> tuple[int, int, int]:
    body = reader.get(f"/v1/restaurants/{RESTAURANT}/balance?currency=PEN").json()
    return body["available"], body["pending"], body["reserved"]


def processor_clearing() -> int:
    """What the processor holds for us in PEN, by our ledger (debit positive)."""
    return sum(Entry.objects.filter(account__kind="processor_clearing", currency="PEN")
               .values_list("amount", flat=True))


def postings_of(payout: Payout) -> list[str]:
    return sorted(Transaction.objects.filter(payout_id=payout.pk).values_list("kind", flat=True))


def money_rows() -> dict[str, int]:
    return {"events": Event.objects.count(), "transactions": Transaction.objects.count(),
            "entries": Entry.objects.count(), "confirmations": PayoutEventConfirmation.objects.count()}


def a_payout_of_10000() -> Payout:
    """A charge of 100.00 (no fee) long matured, and the payout that pays it, still `created`."""
    charge(amount=10000, at="2025-12-01T15:00:00Z", restaurant_id=RESTAURANT)
    run("2025-12-20")
    return Payout.objects.get()


def resolved_from_report(reconciled, manager_client, payout: Payout, category: str = "payout") -> dict:
    """The report lists the payout (`payout`: paid; `payout_return`: returned); finance applies its status."""
    reconciled(report_csv("stl_po", [payout_line("ln_1", payout, category=category, restaurant_id=RESTAURANT)]))
    exception = only_exception(manager_client, outcome="mismatched")
    response = resolve(manager_client, exception["exception_id"], "apply_payout_status")
    assert response.status_code == 200, response.content
    return response.json()


def test_a_payout_paid_webhook_after_the_report_marked_the_payout_paid_is_200_and_moves_no_money(
        reconciled, manager_client, client_anon, reader):
    payout = a_payout_of_10000()
    resolved = resolved_from_report(reconciled, manager_client, payout)
    posted = resolved["resolution"]["ledger_transaction_id"]
    assert resolved["resolution"]["confirmed_by"] is None
    assert postings_of(payout) == ["payout_paid", "payout_reserve"]
    assert (balance(reader), processor_clearing()) == ((0, 0, 0), 0)  # 10000 in, 10000 paid out
    before = money_rows()

    # The processor's webhook, a little after the moment its report gives.
    response = post_event(client_anon, payout_paid_payload(payout, event_id="evt_po_paid",
                                                           at="2026-01-05T13:30:00Z"))

    assert response.status_code == 200, response.content
    assert "Idempotent-Replayed" not in response  # stored now: no replay of anything
    body = response.json()
    assert (body["event_id"], body["payout_id"], body["ledger_transaction_id"]) == ("evt_po_paid", payout.pk, posted)
    # The event is recorded, and nothing else: no posting, the same balances to the cent.
    assert money_rows() == {**before, "events": before["events"] + 1, "confirmations": 1}
    assert postings_of(payout) == ["payout_paid", "payout_reserve"]
    assert (balance(reader), processor_clearing()) == ((0, 0, 0), 0)
    # The payout stays as the report set it; the restaurant's last event is the webhook now.
    payout_body = reader.get(f"/v1/payouts/{payout.pk}").json()
    assert (payout_body["status"], payout_body["paid_at"]) == ("paid", "2026-01-05T12:00:00Z")
    assert reader.get(f"/v1/restaurants/{RESTAURANT}/balance?currency=PEN").json()["last_event_at"] == (
        "2026-01-05T13:30:00Z")
    # The resolution shows the processor's webhook confirmed it.
    exception = only_exception(manager_client, outcome="mismatched")
    assert exception["resolution"]["ledger_transaction_id"] == posted
    assert exception["resolution"]["confirmed_by"]["event_id"] == "evt_po_paid"
    assert_ledger_check_clean()

    # The processor sends it again: an ordinary replay, the same body, nothing written.
    again = post_event(client_anon, payout_paid_payload(payout, event_id="evt_po_paid", at="2026-01-05T13:30:00Z"))

    assert again.status_code == 200, again.content
    assert again["Idempotent-Replayed"] == "true"
    assert again.json() == body
    assert money_rows() == {**before, "events": before["events"] + 1, "confirmations": 1}

    # Another payout_paid for it, with an id of its own, is a repeated status, as for any payout.
    other = post_event(client_anon, payout_paid_payload(payout, event_id="evt_po_paid_2"))

    assert_problem(other, 422, "payout_transition_invalid")
    assert money_rows() == {**before, "events": before["events"] + 1, "confirmations": 1}
    assert (balance(reader), processor_clearing()) == ((0, 0, 0), 0)
    assert_ledger_check_clean()


@pytest.mark.parametrize(("field", "value"), [("amount", 10001), ("restaurant_id", "res_other"),
                                              ("currency", "USD")])
def test_a_late_payout_paid_that_disagrees_with_the_payout_is_422_and_writes_nothing(
        reconciled, manager_client, client_anon, reader, field, value):
    payout = a_payout_of_10000()
    resolved_from_report(reconciled, manager_client, payout)
    before = money_rows()

    response = post_event(client_anon, payout_paid_payload(payout, event_id="evt_po_wrong", **{field: value}))

    problem = assert_problem(response, 422, "payout_mismatch")
    assert problem["fields"] == [field]
    assert money_rows() == before
    assert not Event.objects.filter(event_id="evt_po_wrong").exists()
    assert (balance(reader), processor_clearing()) == ((0, 0, 0), 0)
    exception = only_exception(manager_client, outcome="mismatched")
    assert exception["resolution"]["confirmed_by"] is None
    assert_ledger_check_clean()


def test_a_late_payout_paid_after_the_payout_failed_is_still_422(reconciled, manager_client, client_anon, reader):
    payout = a_payout_of_10000()
    resolved_from_report(reconciled, manager_client, payout)
    # The bank returned it, and the processor said so by webhook: the money is owed again.
    returned = post_event(client_anon, payout_failed_payload(payout, event_id="evt_po_returned"))
    assert returned.status_code == 201, returned.content
    assert balance(reader) == (10000, 0, 0)
    before = money_rows()

    late = post_event(client_anon, payout_paid_payload(payout, event_id="evt_po_paid_late"))

    assert_problem(late, 422, "payout_transition_invalid")
    assert money_rows() == before
    assert balance(reader) == (10000, 0, 0)
    assert_ledger_check_clean()


def test_a_payout_failed_webhook_after_the_report_marked_the_payout_returned_is_200_and_moves_no_money(
        reconciled, manager_client, client_anon, reader):
    payout = a_payout_of_10000()
    assert post_event(client_anon, payout_paid_payload(payout, event_id="evt_po_paid")).status_code == 201
    resolved = resolved_from_report(reconciled, manager_client, payout, category="payout_return")
    posted = resolved["resolution"]["ledger_transaction_id"]
    assert postings_of(payout) == ["payout_paid", "payout_reserve", "payout_returned"]
    assert (balance(reader), processor_clearing()) == ((10000, 0, 0), 10000)  # owed again; back at the processor
    before = money_rows()

    payload = payout_failed_payload(payout, event_id="evt_po_returned", reason="account_closed")
    response = post_event(client_anon, payload)

    assert response.status_code == 200, response.content
    assert response.json()["ledger_transaction_id"] == posted
    assert money_rows() == {**before, "events": before["events"] + 1, "confirmations": 1}
    assert postings_of(payout) == ["payout_paid", "payout_reserve", "payout_returned"]
    assert (balance(reader), processor_clearing()) == ((10000, 0, 0), 10000)
    payout_body = reader.get(f"/v1/payouts/{payout.pk}").json()
    assert (payout_body["status"], payout_body["failure_reason"]) == ("failed", "returned (settlement report)")
    exception = only_exception(manager_client, outcome="mismatched")
    assert exception["resolution"]["confirmed_by"]["event_id"] == "evt_po_returned"
    assert_ledger_check_clean()

    again = post_event(client_anon, payload)

    assert again.status_code == 200 and again["Idempotent-Replayed"] == "true"
    assert money_rows() == {**before, "events": before["events"] + 1, "confirmations": 1}

    changed = post_event(client_anon, payout_failed_payload(payout, event_id="evt_po_returned_2", amount=9999))

    assert_problem(changed, 422, "payout_mismatch")
    late_paid = post_event(client_anon, payout_paid_payload(payout, event_id="evt_po_paid_after_return"))
    assert_problem(late_paid, 422, "payout_transition_invalid")
    assert money_rows() == {**before, "events": before["events"] + 1, "confirmations": 1}
    assert (balance(reader), processor_clearing()) == ((10000, 0, 0), 10000)
    assert_ledger_check_clean()


def test_a_payout_paid_by_webhook_is_still_paid_once(client_anon, reader):
    """No report in between: a second payout_paid with a new id is the 422 it always was."""
    payout = a_payout_of_10000()
    assert post_event(client_anon, payout_paid_payload(payout, event_id="evt_po_paid")).status_code == 201
    before = money_rows()

    response = post_event(client_anon, payout_paid_payload(payout, event_id="evt_po_paid_2"))

    assert_problem(response, 422, "payout_transition_invalid")
    assert money_rows() == before
    assert PayoutEventConfirmation.objects.count() == 0


def test_the_batch_endpoint_answers_a_late_payout_paid_like_the_single_one(reconciled, manager_client, client_anon):
    payout = a_payout_of_10000()
    resolve_body = resolved_from_report(reconciled, manager_client, payout)
    events = [payout_paid_payload(payout, event_id="evt_po_paid"), payout_paid_payload(payout, event_id="evt_po_paid")]

    response = post_event(client_anon, None, path="/v1/processor/events/batch",
                          raw=json.dumps({"events": events}).encode())

    assert response.status_code == 200, response.content
    results = response.json()["results"]
    assert [(result["status"], result["replayed"]) for result in results] == [(200, False), (200, True)]
    assert {result["event"]["ledger_transaction_id"] for result in results} == {
        resolve_body["resolution"]["ledger_transaction_id"]}
    assert_ledger_check_clean()


@pytest.mark.django_db(transaction=True)
def test_simultaneous_late_webhooks_confirm_the_reports_posting_once(reconciled, manager_client, reader):
    """Threads with their own connections: 10 resends of one webhook and 10 others with ids of their own."""
    payout = a_payout_of_10000()
    posted = resolved_from_report(reconciled, manager_client, payout)["resolution"]["ledger_transaction_id"]
    same = json.dumps(payout_paid_payload(payout, event_id="evt_po_paid")).encode()
    others = [json.dumps(payout_paid_payload(payout, event_id=f"evt_po_paid_{i}")).encode() for i in range(10)]
    before = money_rows()

    statuses = post_all_at_once([same] * 10 + others)

    # Whichever came first confirmed the posting (200); the same one again is a replay (200); any other is 422.
    confirming = PayoutEventConfirmation.objects.get()
    assert confirming.ledger_transaction_id == posted
    if confirming.event.event_id == "evt_po_paid":
        assert Counter(statuses) == {200: 10, 422: 10}
    else:
        assert Counter(statuses) == {200: 1, 422: 19}
    assert money_rows() == {**before, "events": before["events"] + 1, "confirmations": 1}
    assert postings_of(payout) == ["payout_paid", "payout_reserve"]
    assert (balance(reader), processor_clearing()) == ((0, 0, 0), 0)
    assert_ledger_check_clean()
