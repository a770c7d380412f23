"""docker-compose.yml and the Dockerfile cannot rot unnoticed: no Docker engine here, so check their structure."""

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
SPEC_VARIABLES = [
    "DATABASE_URL", "SECRET_KEY", "DEBUG", "ALLOWED_HOSTS", "PROCESSOR_WEBHOOK_SECRETS", "MATURITY_WINDOW_DAYS",
    "DEFAULT_CURRENCY", "SUPPORTED_CURRENCIES", "TIME_ZONE", "REDIS_URL", "LOG_LEVEL",
]


def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def command_text(service: dict) -> str:
    command = service["command"]
    return command if isinstance(command, str) else " ".join(command)


def test_the_services_are_db_web_worker_and_redis_and_pgbouncer_only_under_a_profile():
    services = compose()["services"]
    assert set(services) == {"db", "web", "worker", "redis", "pgbouncer"}
    assert services["redis"]["profiles"] == ["redis"]
    assert services["pgbouncer"]["profiles"] == ["pgbouncer"]
    assert services["pgbouncer"]["environment"]["POOL_MODE"] == "transaction"
    assert all("profiles" not in services[name] for name in ("db", "web", "worker"))


def test_db_is_postgresql_16_with_a_healthcheck_and_a_named_volume():
    spec = compose()
    db = spec["services"]["db"]
    assert db["image"] == "postgres:16"
    assert "pg_isready" in " ".join(db["healthcheck"]["test"])
    assert db["volumes"] == ["pgdata:/var/lib/postgresql/data"]
    assert "pgdata" in spec["volumes"]
    assert set(db["environment"]) == {"POSTGRES_DB", "POSTGRES_USER", "POSTGRES_PASSWORD"}


def test_web_migrates_then_serves_with_gunicorn_once_db_is_healthy():
    web = compose()["services"]["web"]
    command = command_text(web)
    assert "manage.py migrate --no-input" in command
    assert command.index("migrate") < command.index("gunicorn mesa247.wsgi:application")
    assert "exec gunicorn" in command  # gunicorn replaces the shell and receives the stop signal
    assert web["depends_on"] == {"db": {"condition": "service_healthy"}}
    assert web["ports"] == ["${WEB_PORT:-8000}:8000"]
    assert "/readyz" in " ".join(web["healthcheck"]["test"])


def test_worker_runs_qcluster_after_db_is_healthy_and_web_has_migrated():
    worker = compose()["services"]["worker"]
    assert command_text(worker) == "python manage.py qcluster"
    assert worker["depends_on"] == {"db": {"condition": "service_healthy"}, "web": {"condition": "service_healthy"}}


def test_web_and_worker_get_every_documented_variable_and_the_database_of_db():
    services = compose()["services"]
    db_env = services["db"]["environment"]
    documented = set(re.findall(r"^([A-Z_]+)=", (ROOT / ".env.example").read_text(), re.MULTILINE))
    for name in ("web", "worker"):
        environment = services[name]["environment"]
        assert set(SPEC_VARIABLES) <= set(environment), name
        assert set(environment) - {"WEB_CONCURRENCY", "DB_CONN_MAX_AGE", "Q_WORKERS"} <= documented | {
            "CSRF_TRUSTED_ORIGINS", "SECURE_COOKIES"}
        # The app reaches the db service (or PgBouncer in front of it) with db's own credentials.
        assert environment["DATABASE_URL"] == (
            "postgres://${POSTGRES_USER:-mesa247}:${POSTGRES_PASSWORD:-mesa247}@${DATABASE_HOST:-db}:5432/"
            "${POSTGRES_DB:-mesa247}"
        )
        assert db_env["POSTGRES_USER"] == "${POSTGRES_USER:-mesa247}"
        # No production secret has a default: compose refuses to start without them.
        assert environment["SECRET_KEY"].startswith("${SECRET_KEY:?")
        assert environment["PROCESSOR_WEBHOOK_SECRETS"].startswith("${PROCESSOR_WEBHOOK_SECRETS:?")
        assert environment["DEBUG"] == "${DEBUG:-false}"
    assert set(SPEC_VARIABLES) <= documented


def test_the_dockerfile_builds_python_311_collects_static_and_serves_gunicorn():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert dockerfile.startswith("# ") and "\nFROM python:3.11-slim\n" in dockerfile
    assert "pip install -r requirements.txt" in dockerfile
    assert "manage.py collectstatic --no-input" in dockerfile
    assert 'CMD ["gunicorn", "mesa247.wsgi:application"' in dockerfile
    assert "\nUSER mesa\n" in dockerfile
    assert (ROOT / "mesa247" / "wsgi.py").exists()
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".git", ".venv", ".data", ".env", "staticfiles"} <= set(ignored)
