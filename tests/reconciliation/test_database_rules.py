"""What PostgreSQL itself holds for reconciliation: lines and states name stored rows (checked per statement),
a line stays in its report, and reports and lines are never deleted."""

import pytest
from django.db import IntegrityError, connection, transaction

from reconciliation.models import EventReconciliation, SettlementLine, SettlementReport
from tests.helpers import charge

from .conftest import event_line, report_csv

LINE_INSERT = """
INSERT INTO reconciliation_settlementline (report_id, line_number, line_id, category, source_id, restaurant_id,
                                           currency, amount, fee, net, occurred_at, fields)
VALUES (%s, 2, %s, 'charge', 'evt_x', 'res_001', 'PEN', 1000, 40, 960, now(), '[]'::jsonb)
"""


@pytest.fixture
def stored(reconciled):
    sold = charge(amount=12000, fee=600, at="2025-12-01T15:00:00Z", event_id="evt_a")
    assert reconciled(report_csv("stl_1", [event_line("ln_1", sold)])).status_code == 202
    return SettlementReport.objects.get(pk="stl_1"), SettlementLine.objects.get(line_id="ln_1"), sold


def refused(sql: str, params: list) -> str:
    with pytest.raises(IntegrityError) as raised, transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)
    return str(raised.value)


def test_a_line_naming_no_stored_report_is_refused_and_one_naming_a_stored_report_is_kept(stored):
    assert "names no stored settlement report" in refused(LINE_INSERT, ["stl_none", "ln_9"])
    with connection.cursor() as cursor:
        cursor.execute(LINE_INSERT, ["stl_1", "ln_9"])
    assert sorted(SettlementLine.objects.values_list("report_id", "line_id")) == [("stl_1", "ln_1"), ("stl_1", "ln_9")]


def test_a_line_never_moves_to_another_report(stored):
    _report, line, _event = stored
    SettlementReport.objects.create(report_id="stl_2", digest="0" * 64, lines=0)
    assert "never moves to another report" in refused(
        "UPDATE reconciliation_settlementline SET report_id = 'stl_2' WHERE id = %s", [line.pk])
    assert SettlementLine.objects.get(pk=line.pk).report_id == "stl_1"


def test_an_event_state_naming_no_stored_event_or_line_is_refused_on_insert_and_update(stored):
    _report, line, sold = stored
    assert "names no stored event" in refused(
        "INSERT INTO reconciliation_eventreconciliation (event_id, state, line_id, updated_at) "
        "VALUES (%s, 'matched', NULL, now())", [10**12])
    assert "names no stored event or settlement line" in refused(
        "UPDATE reconciliation_eventreconciliation SET line_id = %s WHERE event_id = %s", [10**12, sold.pk])
    state = EventReconciliation.objects.get(event_id=sold.pk)
    assert (state.state, state.line_id) == ("matched", line.pk)


def test_reports_and_lines_are_never_deleted_nor_emptied(stored):
    report, line, _event = stored
    for table, key, value in (("reconciliation_settlementline", "id", line.pk),
                              ("reconciliation_settlementreport", "report_id", report.pk)):
        assert "are kept" in refused(f"DELETE FROM {table} WHERE {key} = %s", [value])
        # Deferred key checks of this test's own writes fire first: TRUNCATE waits for none.
        assert "never emptied" in refused(f"SET CONSTRAINTS ALL IMMEDIATE; TRUNCATE {table} CASCADE", [])
    assert SettlementReport.objects.count() == 1
    assert SettlementLine.objects.count() == 1
