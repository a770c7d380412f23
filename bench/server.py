"""Start and stop what the benchmark runs: a fresh database, gunicorn, qcluster, commands and the load generator.

Every long-lived process starts in its own session (process group), is recorded in PROCESSES,
and stop_all() ends each group (SIGTERM, then SIGKILL) whatever happened before.
"""

import contextlib
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
PROCESSES: list[subprocess.Popen] = []


def fresh_database(url: str, suffix: str = "_bench") -> str:
    """Drop and create `<database><suffix>` on the server of `url`; return its URL."""
    base, name = url.rsplit("/", 1)
    name, _, query = name.partition("?")
    bench_name = f"{name}{suffix}"
    with psycopg.connect(f"{base}/postgres", autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{bench_name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{bench_name}"')
    return f"{base}/{bench_name}" + (f"?{query}" if query else "")


def sql_rows(url: str, query: str) -> list[tuple]:
    with psycopg.connect(url) as connection:
        return connection.execute(query).fetchall()


def sql_value(url: str, query: str):
    return sql_rows(url, query)[0][0]


def manage(env: dict, *args: str, stdout=None) -> str:
    """Run `manage.py ARGS`; exit the benchmark when it fails. Returns its stdout (unless redirected)."""
    result = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, stdout=stdout or subprocess.PIPE,
        stderr=subprocess.PIPE, text=True, check=False,
    )
    if result.returncode != 0:
        sys.exit(f"manage.py {' '.join(args)} failed ({result.returncode}):\n{result.stderr[-3000:]}")
    return result.stdout if stdout is None else ""


def spawn(args: list[str], env: dict, log: Path | None = None, stdout=None, stderr=None) -> subprocess.Popen:
    """Start a process in its own session, remembered for stop_all(); `log` takes its stdout and stderr."""
    if log:
        with log.open("ab") as out:
            process = subprocess.Popen(args, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                                       start_new_session=True)
    else:
        process = subprocess.Popen(args, cwd=ROOT, env=env, stdout=stdout or subprocess.DEVNULL, stderr=stderr,
                                   start_new_session=True)
    PROCESSES.append(process)
    return process


def run_measured(args: list[str], env: dict, **kwargs) -> tuple[int, float, dict]:
    """Run a child to completion: (exit code, wall seconds, its own rusage as a dict from wait4)."""
    started = time.perf_counter()
    process = spawn(args, env, **kwargs)
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    PROCESSES.remove(process)
    return process.returncode, elapsed, {
        "max_rss_mb": usage.ru_maxrss / 1024,  # kilobytes on Linux
        "cpu_seconds": usage.ru_utime + usage.ru_stime,
    }


def stop(process: subprocess.Popen, grace: float = 10.0) -> None:
    if process.poll() is None:
        for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 5.0)):
            try:
                os.killpg(process.pid, sig)
            except ProcessLookupError:
                break
            try:
                process.wait(wait)
                break
            except subprocess.TimeoutExpired:
                continue
    # Anything left in the group (a worker whose master died first) goes too.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)


def stop_all() -> None:
    while PROCESSES:
        stop(PROCESSES.pop())


def wait_ready(base_url: str, process: subprocess.Popen, log: Path, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            sys.exit(f"gunicorn exited ({process.returncode}); see {log}")
        try:
            with urllib.request.urlopen(f"{base_url}/readyz", timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.2)
    sys.exit(f"gunicorn did not answer /readyz within {timeout:.0f} s; see {log}")


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


def rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def machine(database_url: str) -> dict:
    model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), "unknown")
    return {
        "nproc": os.cpu_count(),
        "cpu": model,
        "postgresql": sql_value(database_url, "SHOW server_version"),
        "python": sys.version.split()[0],
    }



def cpu_snapshot() -> dict:
    """Machine CPU ticks (busy, steal, total) and per-process CPU ticks of every process, for cpu_usage()."""
    fields = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]
    processes = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                head, tail = (entry / "stat").read_text().rsplit(")", 1)
            except OSError:
                continue
            stat = tail.split()
            processes[int(entry.name)] = (head.split("(", 1)[1], int(stat[11]) + int(stat[12]))
    return {"time": time.monotonic(), "total": sum(fields[:8]), "idle": idle, "steal": fields[7],
            "processes": processes}


def command_line(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return ""


def backends_of(database: str, snapshot: dict) -> set[int]:
    """PostgreSQL backends serving `database` (command line `postgres: [CLUSTER:] USER DATABASE HOST …`)."""
    return {pid for pid, (name, _) in snapshot["processes"].items()
            if name == "postgres" and database in command_line(pid).split()[2:4]}


def cpu_usage(before: dict, after: dict, groups: dict[str, set[int]], client_seconds: float) -> dict:
    """Machine busy and steal % (of all cores); each group's, the client's and everything else's CPU (% of one core)."""
    total = max(after["total"] - before["total"], 1)
    elapsed = after["time"] - before["time"]
    ticks = os.sysconf("SC_CLK_TCK") * elapsed

    def used(pids) -> float:
        return sum(after["processes"][pid][1] - before["processes"].get(pid, ("", 0))[1]
                   for pid in pids if pid in after["processes"])

    busy = (total - (after["idle"] - before["idle"])) / total
    usage = {"machine_busy_percent": round(100 * busy, 1),
             "steal_percent": round(100 * (after["steal"] - before["steal"]) / total, 1)}
    accounted = 100 * client_seconds / elapsed
    for name, pids in groups.items():
        usage[f"{name}_cpu_percent"] = round(100 * used(pids) / ticks, 1)
        accounted += usage[f"{name}_cpu_percent"]
    # Everything else on the machine (other users' processes, the kernel), from the machine's busy time,
    # and the processes that used most of it (the load generator has ended and is no longer listed).
    usage["other_cpu_percent"] = round(max(busy * 100 * (os.cpu_count() or 1) - accounted, 0.0), 1)
    ours = set().union(*groups.values())
    others = sorted(((round(100 * used([pid]) / ticks, 1), pid) for pid in after["processes"] if pid not in ours),
                    reverse=True)
    usage["other_top"] = [f"{percent} % {command_line(pid)[:48] or after['processes'][pid][0]}"
                          for percent, pid in others[:3] if percent >= 5]
    return usage
