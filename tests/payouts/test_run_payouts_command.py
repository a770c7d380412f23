import uuid
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django_q.models import OrmQ

from payouts.models import Payout, PayoutRun, PayoutRunStatus
from tests.helpers import charge

pytestmark = pytest.mark.django_db


def run_payouts(*args) -> str:
    out = StringIO()
    call_command("run_payouts", *args, stdout=out)
    return out.getvalue()


def test_sync_runs_in_process_and_prints_the_summary():
    charge(restaurant_id="res_cmd1", amount=7000, at="2025-12-01T15:00:00Z")
    charge(restaurant_id="res_cmd2", amount=3000, at="2025-12-01T15:00:00Z")

    output = run_payouts("--currency", "PEN", "--as-of", "2025-12-30", "--min-amount", "5000", "--sync")

    run = PayoutRun.objects.get()
    assert f"Run {run.pk} succeeded: 2 eligible, 1 paid, 1 skipped, total 7000 PEN" in output
    assert list(Payout.objects.values_list("restaurant_id", "amount")) == [("res_cmd1", 7000)]
    assert not OrmQ.objects.exists()


def test_by_default_the_run_is_queued_for_a_worker():
    output = run_payouts("--currency", "PEN", "--as-of", "2025-12-30", "--min-amount", "5000")

    run = PayoutRun.objects.get()
    assert run.status == PayoutRunStatus.QUEUED
    assert f"Queued payout run {run.pk}" in output
    assert f"/v1/payouts/runs/{run.pk}" in output
    assert OrmQ.objects.count() == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--currency", "EUR", "--as-of", "2025-12-30", "--min-amount", "5000"], "Unsupported currency 'EUR'"),
        (["--currency", "PEN", "--as-of", "30/12/2025", "--min-amount", "5000"], "YYYY-MM-DD"),
        (["--currency", "PEN", "--as-of", "2025-W01-2", "--min-amount", "5000"], "YYYY-MM-DD"),
        (["--currency", "PEN", "--as-of", "2999-01-01", "--min-amount", "5000"], "Must not be in the future"),
        (["--currency", "PEN", "--as-of", "2025-12-30", "--min-amount", "50.5"], "whole number"),
        (["--currency", "PEN", "--as-of", "2025-12-30", "--min-amount", "0"], "at least 1"),
        (["--currency", "PEN"], "Missing --as-of, --min-amount"),
        (["--retry", str(uuid.uuid4())], "No payout run"),
        (["--retry", "not-a-run"], "No payout run"),
    ],
)
def test_bad_input_is_a_command_error_and_writes_nothing(args, message):
    with pytest.raises(CommandError, match=message):
        run_payouts(*args)
    assert not PayoutRun.objects.exists()
    assert not OrmQ.objects.exists()
