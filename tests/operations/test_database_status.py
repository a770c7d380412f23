"""`manage.py database_status` on the default configuration: one primary, reachable, and no replica.
(With a replica, tests/operations/test_read_replica.py runs it against a real one.)"""

from tests.operations.conftest import run_command


def test_the_primary_is_reported_reachable_and_nothing_else_is_listed(db):
    status, out, _ = run_command("database_status")
    assert status == 0
    lines = out.splitlines()
    assert lines[0] == "pool mode: session"
    assert len(lines) == 2 and lines[1].startswith("default (") and lines[1].endswith("): primary, reachable")
