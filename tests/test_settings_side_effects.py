"""Loading the settings starts no database; only the entry points that connect start the embedded one.

Each case runs in its own process with DATABASE_URL unset and the embedded
PostgreSQL's data folder (EMBEDDED_POSTGRES_DATA) pointed at a fresh path: a
started server would create that folder, so its absence afterwards proves
nothing was started (and nothing written there). The suite's own server is
never touched.
"""

import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PRODUCTION = {"DEBUG": "false", "SECRET_KEY": "x" * 20 + uuid.uuid4().hex * 2, "PROCESSOR_WEBHOOK_SECRETS": "x",
              "ALLOWED_HOSTS": "example.com"}


@pytest.fixture
def data_folder():
    """A data folder that does not exist yet, under .data/ (PostgreSQL's own user can reach it when run as root)."""
    folder = ROOT / ".data" / f"settings-probe-{uuid.uuid4().hex[:8]}"
    yield folder / "postgres"
    if (folder / "postgres").exists():
        run([sys.executable, "-m", "mesa247.embedded_postgres", "stop"], folder / "postgres")
    shutil.rmtree(folder, ignore_errors=True)


INHERITED_NOT = ("DJANGO_", "DATABASE_URL", "DEBUG", "SECRET_KEY", "SECURE_", "ALLOWED_HOSTS")


def run(command: list[str], data: Path, **env: str) -> subprocess.CompletedProcess:
    environment = {key: value for key, value in os.environ.items() if not key.startswith(INHERITED_NOT)}
    environment.update(EMBEDDED_POSTGRES_DATA=str(data), **env)
    return subprocess.run(command, cwd=ROOT, env=environment, capture_output=True, text=True, timeout=180)


def manage(data: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    return run([sys.executable, "manage.py", *args], data, **env)


def test_importing_the_settings_starts_nothing_and_points_at_the_embedded_socket(data_folder):
    result = run([sys.executable, "-c", "import mesa247.settings as s; print(s.DATABASE_URL, s.DEBUG)"], data_folder)
    assert result.returncode == 0, result.stderr
    encoded = str(data_folder).replace("/", "%2F")
    assert result.stdout.split() == [f"postgres://postgres@{encoded}/mesa247", "True"]
    assert not data_folder.parent.exists()


@pytest.mark.parametrize("command", [
    ["collectstatic", "--no-input", "--dry-run", "--verbosity", "0"],
    ["spectacular", "--validate", "--fail-on-warn", "--file", os.devnull],
    ["makemigrations", "--check", "--dry-run"],
    ["check", "--deploy", "--fail-level", "WARNING"],
    ["sign_event", "--help"],
], ids=lambda command: command[0])
def test_commands_that_never_connect_run_with_no_database_and_start_none(data_folder, command):
    result = manage(data_folder, *command, **PRODUCTION)
    assert result.returncode == 0, result.stdout + result.stderr
    assert not data_folder.parent.exists()


def test_a_command_that_connects_starts_the_embedded_server_on_a_fresh_checkout(data_folder):
    result = manage(data_folder, "showmigrations", "processor", DEBUG="true")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "[ ] 0001_initial" in result.stdout
    assert (data_folder / "postmaster.pid").exists()
    status = run([sys.executable, "-m", "mesa247.embedded_postgres", "status"], data_folder)
    assert status.returncode == 0 and status.stdout.startswith("running: postgres://postgres@"), status.stdout


def test_a_malformed_value_refuses_to_start_and_names_the_variable(data_folder):
    for variable, value, message in [
        ("DEBUG", "treu", "DEBUG must be true or false"),
        ("Q_WORKERS", "two", "Q_WORKERS must be an integer, got 'two'"),
        ("Q_WORKERS", "0", "Q_WORKERS must be at least 1, got 0."),
        ("PAYOUT_SCHEDULE_TIME", "6am", "PAYOUT_SCHEDULE_TIME must be a local time HH:MM (24-hour), got '6am'"),
    ]:
        result = manage(data_folder, "check", **{**PRODUCTION, variable: value})
        assert result.returncode != 0
        assert f"Configuration error: {message}" in result.stderr, (variable, result.stderr)
    assert not data_folder.parent.exists()
