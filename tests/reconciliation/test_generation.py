"""The report generator and the sample report: deterministic, and reconciled with exactly the exceptions planted."""

import json
from pathlib import Path

import pytest
from django.core.management import call_command

from reconciliation.generation import CATEGORY_OF_EVENT_TYPE
from reconciliation.models import ReconciliationException
from reconciliation.selectors import report_get

ROOT = Path(__file__).resolve().parents[2]
SAMPLE_EVENTS = ROOT / "events" / "sample.jsonl"
SAMPLE_REPORT = ROOT / "events" / "settlement_report_sample.csv"


def test_the_sample_report_is_what_the_generator_writes_for_the_sample_events(tmp_path):
    written = tmp_path / "report.csv"
    call_command("generate_settlement_report", "--report-id", "stl_sample_2025_12", "--events", str(SAMPLE_EVENTS),
                 "--seed", "7", "--drop", "2", "--alter", "2", "--add", "2", "--output", str(written))
    assert written.read_bytes() == SAMPLE_REPORT.read_bytes()


def test_the_sample_report_reconciles_with_the_planted_exceptions(db, capsys):
    with pytest.raises(SystemExit):  # the sample holds a conflicting resend on purpose: exit 1
        call_command("load_events", str(SAMPLE_EVENTS), "--no-progress")
    # Every event that moves money has its line; a lost dispute moves none, and reports omit it.
    sample = [json.loads(text) for text in SAMPLE_EVENTS.read_text().splitlines() if text.strip()]
    events = len({event["event_id"] for event in sample if event["event_type"] in CATEGORY_OF_EVENT_TYPE})

    call_command("reconcile", str(SAMPLE_REPORT))

    report = report_get(report_id="stl_sample_2025_12")
    assert (report.lines, report.matched, report.mismatched, report.missing_from_ledger, report.duplicate) == (
        events, events - 4, 2, 2, 0)
    outcomes = sorted(ReconciliationException.objects.values_list("outcome", flat=True))
    assert outcomes == ["mismatched"] * 2 + ["missing_from_ledger"] * 2 + ["missing_from_report"] * 2
    (pen,) = [total for total in report.currency_totals.all() if total.currency == "PEN"]
    assert pen.drift == sum(line.net for line in report.report_lines.filter(currency="PEN").exclude(outcome="matched"))

    # `make run` reconciles it on every start: the second time it is received before, and the command succeeds.
    capsys.readouterr()
    call_command("reconcile", str(SAMPLE_REPORT))
    assert "Report stl_sample_2025_12 was received before: nothing new was written." in capsys.readouterr().out
    assert ReconciliationException.objects.count() == 6
