import io
import re
from pathlib import Path

import pytest
from django.core.management import call_command

from ledger.services import accounts_forget
from tests.helpers import migration_data_ensure

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "events" / "sample.jsonl"
SAMPLE_README = ROOT / "events" / "README.md"


def run_command(name: str, *args, stdin: io.BytesIO | None = None) -> tuple[int, str, str]:
    """Run a management command as an operator would; returns (exit status, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command(name, *args, stdout=out, stderr=err)
    except SystemExit as exit_:
        return int(exit_.code or 0), out.getvalue(), err.getvalue()
    return 0, out.getvalue(), err.getvalue()


def expected_sample_balances() -> dict[tuple[str, str], dict[str, int]]:
    """The table of events/README.md: (restaurant, currency) → available, pending, reserved."""
    rows = re.findall(
        r"^\| (res_\d+) \| ([A-Z]{3}) \| (-?\d+) \| (-?\d+) \| (-?\d+) \|$", SAMPLE_README.read_text(), re.MULTILINE
    )
    return {
        (restaurant, currency): {"available": int(available), "pending": int(pending), "reserved": int(reserved)}
        for restaurant, currency, available, pending, reserved in rows
    }


@pytest.fixture(scope="module")
def sample_loaded(django_db_setup, django_db_blocker):
    """The sample dataset, loaded and committed once per module; the database is emptied afterwards.

    Tests of the module use `django_db` as usual: each runs in a transaction
    rolled back at its end, so each starts from the freshly loaded sample. At
    the end of the module, `flush` empties every table, as after a
    transactional test, and the finance groups its data migration made are
    created again.
    """
    with django_db_blocker.unblock():
        try:
            status, out, err = run_command("load_events", str(SAMPLE), "--no-progress")
            yield {"status": status, "stdout": out, "stderr": err}
        finally:
            call_command("flush", interactive=False, verbosity=0)
            accounts_forget()
            migration_data_ensure()
