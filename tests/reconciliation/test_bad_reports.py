"""A report is received whole or not at all: every bad file is a 400 (the command: exit 2) with line numbers,
and nothing is written. The same report again is 200; the same report_id with other content is 409."""

import threading

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from reconciliation.models import ReconciliationException, SettlementLine, SettlementReport
from reconciliation.services import report_receive
from tests.conftest import assert_problem
from tests.helpers import charge

from .conftest import HEADER, event_line, line, report_csv

GOOD = [line("ln_1", "charge", "evt_a", amount=12000, fee=600), line("ln_2", "refund", "evt_b", amount=500)]


def nothing_written():
    return not SettlementReport.objects.exists() and not SettlementLine.objects.exists()


@pytest.mark.parametrize(("body", "expected"), [
    pytest.param(report_csv("stl", GOOD, header=[c for c in HEADER if c != "net"]),
                 {"line 1": ["Missing column(s): net."]}, id="missing column"),
    pytest.param(report_csv("stl", [GOOD[0], {**GOOD[1], "category": "bonus"}]),
                 {"line 3": ["category: Unknown category 'bonus'; use one of charge, dispute, dispute_reversal, "
                             "payout, payout_return, refund."]}, id="unknown category"),
    pytest.param(report_csv("stl", [{**GOOD[0], "amount": "120.00"}]),
                 {"line 2": ["amount: Must be an integer from 0 to 1000000000000 in minor units, got '120.00'."]},
                 id="decimal amount"),
    pytest.param(report_csv("stl", [{**GOOD[0], "amount": "-5", "net": -5}]),
                 {"line 2": ["amount: Must be an integer from 0 to 1000000000000 in minor units, got '-5'."]},
                 id="negative amount"),
    pytest.param(report_csv("stl", [{**GOOD[0], "net": 12000}]),
                 {"line 2": ["net: Must be 11400 for a charge of amount 12000 and fee 600, got 12000."]},
                 id="net off the formula"),
    pytest.param(report_csv("stl", GOOD).replace(b"stl,ln_2", b"stl_other,ln_2"),
                 {"line 3": ["report_id: Differs from the first line's 'stl': one report per file."]},
                 id="mixed report ids"),
    pytest.param(report_csv("stl", [GOOD[0], GOOD[1], {**GOOD[1], "line_id": "ln_1"}]),
                 {"line 4": ["line_id: line_id 'ln_1' is on lines 2, 4."]}, id="one line_id twice"),
    pytest.param(report_csv("stl", [{**GOOD[0], "occurred_at": "2025-12-01T15:00:00"}]),
                 {"line 2": ["occurred_at: Must be an ISO-8601 timestamp with an offset, e.g. 2025-12-30T10:00:00Z."]},
                 id="naive timestamp"),
    pytest.param(report_csv("stl", [{**GOOD[0], "currency": "EUR"}]),
                 {"line 2": ["currency: Unsupported currency 'EUR'; use one of MXN, PEN, USD."]}, id="currency"),
    pytest.param(b"", {"line 1": ["The file is empty: a header row and at least one line are needed."]}, id="empty"),
    pytest.param(",".join(HEADER).encode() + b"\n", {"line 2": ["The report has no lines."]}, id="header only"),
    pytest.param(report_csv("stl", GOOD) + b"\xff\xfe", {"line 4": ["The file is not UTF-8 text: invalid start byte."]},
                 id="not utf-8"),
])
def test_a_bad_report_is_400_naming_its_lines_and_writes_nothing(reconciled, body, expected):
    response = reconciled(body)

    problem = assert_problem(response, 400, "report_invalid")
    assert problem["errors"] == expected
    assert problem["error_count"] == len(expected)
    assert nothing_written()


def test_errors_on_many_lines_are_listed_up_to_100_with_the_total(reconciled):
    lines = [{**line(f"ln_{n}", "charge", f"evt_{n}", amount=100), "net": 1} for n in range(150)]

    problem = assert_problem(reconciled(report_csv("stl", lines)), 400, "report_invalid")

    assert problem["error_count"] == 150
    assert len(problem["lines"]) == 100
    assert problem["lines"][0] == {"line": 2, "column": "net",
                                   "message": "Must be 100 for a charge of amount 100 and fee 0, got 1."}
    assert nothing_written()


def test_a_body_that_is_not_csv_is_415(manager_client):
    response = manager_client.post("/v1/reconciliation/reports", {"report": 1}, format="json")
    assert_problem(response, 415, "unsupported_media_type")
    assert nothing_written()


def test_a_report_over_the_size_limit_is_413(manager_client, settings):
    settings.RECONCILIATION_REPORT_MAX_BYTES = 100
    response = manager_client.generic("POST", "/v1/reconciliation/reports", data=report_csv("stl", GOOD * 2),
                                      content_type="text/csv")
    assert_problem(response, 413, "payload_too_large")
    assert nothing_written()


def test_the_same_report_again_is_200_with_nothing_new_and_other_content_is_409(reconciled):
    assert reconciled(report_csv("stl", GOOD)).status_code == 202
    # The same lines, columns and lines in another order: the same report.
    reordered_header = ("line_id", *[column for column in HEADER if column != "line_id"])
    again = reconciled(report_csv("stl", GOOD[::-1], header=reordered_header))

    assert again.status_code == 200, again.content
    assert again["Idempotent-Replayed"] == "true"
    assert again.json()["outcomes"] == {"matched": 0, "mismatched": 0, "missing_from_ledger": 2, "duplicate": 0}
    assert SettlementLine.objects.count() == 2
    assert ReconciliationException.objects.count() == 2

    problem = assert_problem(reconciled(report_csv("stl", [GOOD[0]])), 409, "report_conflict")
    assert problem["report_id"] == "stl"
    assert SettlementLine.objects.count() == 2


def test_the_command_reconciles_a_file_and_exits_2_on_a_bad_one(db, tmp_path, capsys):
    sold = charge(amount=12000, fee=600, at="2025-12-01T15:00:00Z", event_id="evt_a")
    good = tmp_path / "good.csv"
    good.write_bytes(report_csv("stl_cmd", [event_line("ln_1", sold), GOOD[1]]))
    bad = tmp_path / "bad.csv"
    bad.write_bytes(report_csv("stl_bad", [{**GOOD[0], "net": 1}]))

    call_command("reconcile", str(good))

    out = capsys.readouterr().out
    assert "Report stl_cmd: 2 lines, 1 matched, 0 mismatched, 1 missing from ledger, 0 duplicate." in out
    assert "PEN: report net 10900, matched net 11400, drift -500" in out
    assert SettlementReport.objects.get().status == "reconciled"
    with pytest.raises(CommandError) as refused:
        call_command("reconcile", str(bad))
    assert refused.value.returncode == 2
    assert "line 2: net: Must be 11400" in capsys.readouterr().err
    assert list(SettlementReport.objects.values_list("pk", flat=True)) == ["stl_cmd"]


@pytest.mark.django_db(transaction=True)
def test_two_uploads_of_one_report_at_once_store_it_once(tmp_path):
    body = report_csv("stl_race", [line(f"ln_{n}", "charge", f"evt_{n}", amount=100) for n in range(2000)])
    start = threading.Barrier(2)
    receipts, errors = [], []

    def upload():
        import io

        try:
            start.wait()
            receipts.append(report_receive(stream=io.BytesIO(body), enqueue=False))
        except Exception as error:  # noqa: BLE001 (reported by the assertion below)
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=upload) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    assert sorted(receipt.created for receipt in receipts) == [False, True]
    assert SettlementReport.objects.count() == 1
    assert SettlementLine.objects.count() == 2000
