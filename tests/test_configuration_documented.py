"""Every environment variable the service reads is documented once in each place: .env.example and
docs/configuration.md's table, and neither documents a variable nothing reads."""

import re
from pathlib import Path

from mesa247 import settings as project_settings

ROOT = Path(__file__).resolve().parents[1]
# Read outside the settings: by the embedded PostgreSQL, prometheus_client (mesa247/metrics.py) and gunicorn.conf.py.
READ_ELSEWHERE = {"EMBEDDED_POSTGRES_DATA", "PROMETHEUS_MULTIPROC_DIR", "GUNICORN_BIND", "PORT", "WEB_CONCURRENCY",
                  "GUNICORN_WORKER_CLASS", "GUNICORN_THREADS"}


def variables_read() -> set[str]:
    return set(project_settings.env.names_read) | READ_ELSEWHERE


def test_the_settings_read_the_environment_only_through_the_one_reader():
    source = (ROOT / "mesa247" / "settings.py").read_text()
    assert "os.environ" not in source and "getenv" not in source


def test_every_variable_read_is_in_env_example_once_and_nothing_else_is():
    names = re.findall(r"^([A-Z][A-Z0-9_]*)=", (ROOT / ".env.example").read_text(), re.MULTILINE)
    assert sorted(set(names)) == sorted(names), "a variable is listed twice"
    assert set(names) == variables_read()


def test_every_variable_read_is_in_the_configuration_table_once_and_nothing_else_is():
    names = re.findall(r"^\| `([A-Z][A-Z0-9_]*)` \|", (ROOT / "docs" / "configuration.md").read_text(), re.MULTILINE)
    assert sorted(set(names)) == sorted(names), "a variable has two rows"
    assert set(names) == variables_read()


def test_the_gunicorn_variables_listed_are_the_ones_gunicorn_conf_reads():
    source = (ROOT / "gunicorn.conf.py").read_text()
    read = set(re.findall(r"os\.environ\.get\([\"']([A-Z_]+)[\"']", source)) | set(
        re.findall(r"_int\(\"([A-Z_]+)\"", source))
    assert read - {"PROMETHEUS_MULTIPROC_DIR", "MESA247_GUNICORN_METRICS_DIR"} == {
        "GUNICORN_BIND", "PORT", "WEB_CONCURRENCY", "GUNICORN_WORKER_CLASS", "GUNICORN_THREADS"}
