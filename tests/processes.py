"""Real processes for the fault and concurrency drills: qcluster workers, gunicorn servers, lock holders.

Each process runs on the test database (`tests.conftest.database_url`) with
the test settings, in a session of its own so that a drill can signal it (or
its whole process group) and the fixture can always clean it up.
"""

import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager, suppress
from pathlib import Path

import psycopg
from django.db import connection

from tests.conftest import database_url, machine_service_missing

REPOSITORY = Path(__file__).resolve().parents[1]
WAIT_SECONDS = 60


def drill_database_url() -> str:
    return database_url(connection.settings_dict["NAME"])


def process_environment(**extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "mesa247.settings_test",
        "DATABASE_URL": drill_database_url(),
        "Q_WORKERS": "1",
        "TEST_ALLOWED_HOSTS": "127.0.0.1",
        "PYTHONFAULTHANDLER": "1",  # a hung child's stacks, when a drill gives up on it (Process.wait)
        **extra,
    }


class Process:
    """A child process with its output kept in a temporary file."""

    def __init__(self, command: list[str], environment: dict[str, str]):
        self.output = tempfile.TemporaryFile()  # noqa: SIM115 (closed by stop())
        self.command = command
        self.popen = subprocess.Popen(command, cwd=REPOSITORY, env=environment, stdout=self.output,
                                      stderr=subprocess.STDOUT, start_new_session=True)
        self.pid = self.popen.pid

    def log(self) -> str:
        self.output.seek(0)
        return self.output.read().decode(errors="replace")[-6000:]

    def poll(self):
        return self.popen.poll()

    def wait(self, timeout: float = WAIT_SECONDS) -> int:
        try:
            return self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            # Where it hangs: SIGABRT makes Python's faulthandler (PYTHONFAULTHANDLER) print every thread's stack.
            with suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGABRT)
            with suppress(subprocess.TimeoutExpired):
                self.popen.wait(timeout=5)
            raise AssertionError(f"{' '.join(self.command)} still ran after {timeout:.0f} s; its output "
                                 f"and stacks:\n{self.log()}") from None

    def kill_group(self, sig: int = signal.SIGKILL) -> None:
        """Signal the whole process group (a qcluster is a sentinel plus its worker, monitor and pusher)."""
        with suppress(ProcessLookupError):
            os.killpg(self.pid, sig)

    def stop(self) -> None:
        if self.popen.poll() is None:
            self.kill_group(signal.SIGTERM)
            with suppress(subprocess.TimeoutExpired):
                self.popen.wait(timeout=5)
        self.kill_group(signal.SIGKILL)  # stragglers of the group, even if the leader has exited
        if self.popen.poll() is None:
            self.popen.wait()
        self.output.close()


@contextmanager
def processes():
    """Start processes with the yielded `start(command, **env)`; all are stopped at the end, whatever happens."""
    started: list[Process] = []

    def start(command: list[str], **extra_env: str) -> Process:
        process = Process(command, process_environment(**extra_env))
        started.append(process)
        return process

    try:
        yield start
    finally:
        for process in reversed(started):
            process.stop()


def qcluster_command() -> list[str]:
    return [sys.executable, "manage.py", "qcluster"]


def manage_command(*arguments: str) -> list[str]:
    return [sys.executable, "manage.py", *arguments]


def gunicorn_command(port: int, *, workers: int = 2) -> list[str]:
    return [str(Path(sys.executable).parent / "gunicorn"), "mesa247.wsgi:application", "--workers", str(workers),
            "--bind", f"127.0.0.1:{port}", "--graceful-timeout", "2"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(predicate, *, what: str, processes_to_watch=(), seconds: float = WAIT_SECONDS):
    """Poll `predicate` until it returns something truthy; fail with the processes' output if it never does."""
    deadline = time.monotonic() + seconds
    while True:
        value = predicate()
        if value:
            return value
        dead = [process for process in processes_to_watch if process.poll() is not None]
        if dead or time.monotonic() > deadline:
            logs = "\n".join(f"--- pid {process.pid} (exit {process.poll()}):\n{process.log()}"
                             for process in processes_to_watch)
            raise AssertionError(f"Gave up waiting for {what}.\n{logs}")
        time.sleep(0.1)


def wait_http_ready(port: int, process: Process) -> None:
    import urllib.request

    def answers():
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:
                return response.status == 200
        except OSError:
            return False

    wait_for(answers, what=f"a server on port {port}", processes_to_watch=[process])


class LockHolder:
    """Another database session holding restaurants' balance rows locked, so a drill stops a run or a request
    exactly where it wants: at the restaurant whose row it holds, after every restaurant before it."""

    def __init__(self):
        self.session = psycopg.connect(drill_database_url(), autocommit=False)

    def hold_balance(self, restaurant_id: str, currency: str = "PEN") -> None:
        self.session.execute(
            "SELECT 1 FROM ledger_restaurantbalance WHERE restaurant_id = %s AND currency = %s FOR UPDATE",
            [restaurant_id, currency],
        )

    def release(self) -> None:
        self.session.rollback()

    def backend_waiting_for_lock(self) -> int | None:
        """The pid of another backend of this database that waits on a lock (the stopped run or request)."""
        with psycopg.connect(drill_database_url(), autocommit=True) as observer:
            row = observer.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' "
                "ORDER BY backend_start LIMIT 1"
            ).fetchone()
        return row[0] if row else None

    def close(self) -> None:
        self.session.close()


def backend_alive(pid: int) -> bool:
    with psycopg.connect(drill_database_url(), autocommit=True) as observer:
        return observer.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s", [pid]).fetchone() == (1,)


def terminate_backend(pid: int) -> None:
    with psycopg.connect(drill_database_url(), autocommit=True) as admin:
        assert admin.execute("SELECT pg_terminate_backend(%s)", [pid]).fetchone() == (True,)


@contextmanager
def lock_holder():
    holder = LockHolder()
    try:
        yield holder
    finally:
        holder.close()


@contextmanager
def redis_database(host: str = "127.0.0.1", port: int = 6379):
    """A Redis database number nobody uses (empty, claimed with a marker key), emptied again at the end."""
    import redis

    try:
        redis.Redis(host=host, port=port, socket_connect_timeout=2).ping()
    except redis.ConnectionError:
        machine_service_missing(f"No Redis server answers on {host}:{port} (apt-get install redis-server)")
    for number in range(15, 0, -1):
        client = redis.Redis(host=host, port=port, db=number)
        if client.dbsize() == 0 and client.set("mesa247:test-drill", "1", nx=True):
            try:
                yield f"redis://{host}:{port}/{number}"
            finally:
                client.flushdb()
                client.close()
            return
        client.close()
    raise AssertionError(f"No empty Redis database on {host}:{port} to run the drill in.")


def ledger_check_output() -> str:
    """`manage.py ledger_check --no-store` in-process; fails the test with its report unless it passes."""
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    try:
        call_command("ledger_check", "--no-store", stdout=out, stderr=out)
    except SystemExit as exit_:
        raise AssertionError(f"ledger_check failed (exit {exit_.code}):\n{out.getvalue()}") from None
    return out.getvalue()


class DatabaseProxy:
    """A TCP proxy in front of the test database that the drill can take down and bring back.

    `down()` stops listening and cuts every open connection, as a network
    partition or a database failover does; `up()` listens again on the same
    port. A server pointed at `url()` sees the database vanish and return.
    """

    def __init__(self):
        database = connection.settings_dict
        host, port = database["HOST"] or "127.0.0.1", int(database["PORT"] or 5432)
        self.upstream = (socket.AF_UNIX, f"{host}/.s.PGSQL.{port}") if host.startswith("/") else (
            socket.AF_INET, (host, port))
        self.port = free_port()
        self.listening = False
        self.sockets: list[socket.socket] = []
        self.lock = threading.Lock()
        self.up()

    def url(self) -> str:
        database = connection.settings_dict
        return f"postgres://{database['USER'] or 'postgres'}@127.0.0.1:{self.port}/{database['NAME']}"

    def up(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        listener.settimeout(0.1)
        self.listening = True
        self.listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def down(self) -> None:
        self.listening = False
        self.listener.close()
        with self.lock:
            for open_socket in self.sockets:
                with suppress(OSError):
                    open_socket.shutdown(socket.SHUT_RDWR)
                open_socket.close()
            self.sockets.clear()

    def _accept(self, listener: socket.socket) -> None:
        while self.listening and listener is self.listener:
            try:
                client, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            client.settimeout(None)
            server = socket.socket(self.upstream[0], socket.SOCK_STREAM)
            server.connect(self.upstream[1])
            with self.lock:
                self.sockets += [client, server]
            for source, target in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(source, target), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, target: socket.socket) -> None:
        with suppress(OSError):
            while chunk := source.recv(65536):
                target.sendall(chunk)
        for end in (source, target):
            with suppress(OSError):
                end.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        self.down()
