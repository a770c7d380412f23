"""The table `make bench` prints at the end: every figure next to its SPEC §9 target.

Speed over HTTP is judged by the ratio to the floor measured in the same run (bench/floor.py);
the absolute rates are printed to read those ratios by, not to be judged on their own."""

import json
from pathlib import Path


def _fmt(value, unit: str = "") -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        text = f"{value:,.1f}" if abs(value) >= 10 else f"{value:,.2f}"
    elif isinstance(value, int):
        text = f"{value:,}"
    else:
        text = str(value)
    return f"{text} {unit}".rstrip()


def _verdict(value, target: tuple[str, float] | None) -> str:
    if target is None or value is None:
        return ""
    op, bound = target
    return "ok" if (value >= bound if op == ">=" else value <= bound) else "MISS"


def _statuses(counts: dict) -> str:
    return " ".join(f"{status}:{count:,}" for status, count in counts.items()) or "—"


def beside_floor(out, add, cpu, key: str, label: str, results: dict) -> None:
    """Each round's floor and service figures, then the median of service/floor."""
    beside = results.get(key)
    if not beside:
        return
    for n, measured in enumerate(beside["rounds"], start=1):
        for side in ("floor", "service"):
            figures = measured[side]
            phase = f"{label}, round {n}: {side}"
            add(phase, "req/s, p50 / p99", f"{figures['rate']:,.1f}/s, {figures['p50_ms']} / {figures['p99_ms']} ms")
            out.append((phase, "HTTP statuses", _statuses(figures["statuses"]), "", ""))
            cpu(phase, figures)
        add(f"{label}, round {n}", "service / floor", measured["ratio"], "×")
    add(label, "service / floor (median of rounds)", beside["ratio"], "×", (">=", 0.85), "≥ 0.85×")


def rows(results: dict) -> list[tuple[str, str, str, str, str]]:
    """(phase, figure, measured, target, verdict) for every figure present in `results`."""
    out = []

    def add(phase, figure, value, unit="", target=None, target_text=""):
        out.append((phase, figure, _fmt(value, unit), target_text, _verdict(value, target)))

    def cpu(phase, figures):
        out.append((phase, "CPU: machine busy (steal)",
                    f"{figures['machine_busy_percent']} % ({figures['steal_percent']} %) of all cores", "", ""))
        out.append((phase, "CPU: gunicorn/postgres/client/other",
                    f"{figures['gunicorn_workers_cpu_percent']} / {figures['postgres_cpu_percent']} / "
                    f"{figures['client_cpu_percent']} / {figures['other_cpu_percent']} % of one core", "", ""))
        if figures.get("other_top"):
            out.append((phase, "CPU: busiest other processes", ", ".join(figures["other_top"]), "", ""))

    ingest = results.get("ingest")
    if ingest:
        phase = f"ingest c={ingest['concurrency']}"
        add(phase, "events/s (restaurants new)", ingest["rate"])
        add(phase, "p50 latency", ingest["p50_ms"], "ms")
        add(phase, "p95 latency", ingest["p95_ms"], "ms")
        add(phase, "p99 latency", ingest["p99_ms"], "ms", ("<=", 50), "≤ 50 ms")
        out.append((phase, "HTTP statuses", _statuses(ingest["statuses"]), "201 new, 200 resend", ""))
        add(phase, "errors", sum(ingest["errors"].values()), "", ("<=", 0), "0")
        cpu(phase, ingest)
        beside_floor(out, add, cpu, "ingest_vs_floor", "events beside the floor", results)
    for key, label in (("reads_small", "balance reads"), ("reads_grown", "balance reads, grown")):
        reads = results.get(key)
        if not reads:
            continue
        phase = f"{label} c={reads['concurrency']}"
        add(phase, "ledger entries", reads["entries"])
        add(phase, "req/s", reads["rate"])
        add(phase, "p50 latency", reads["p50_ms"], "ms")
        add(phase, "p95 latency", reads["p95_ms"], "ms")
        add(phase, "p99 latency", reads["p99_ms"], "ms", ("<=", 20), "≤ 20 ms")
        out.append((phase, "HTTP statuses", _statuses(reads["statuses"]), "all 200", ""))
        cpu(phase, reads)
        if key == "reads_small":
            beside_floor(out, add, cpu, "reads_vs_floor", "balance reads beside the floor", results)
    if results.get("reads_growth_ratio") is not None:
        add("balance reads, grown", "p50 after / before", results["reads_growth_ratio"], "×", ("<=", 1.2), "≤ 1.2×")
    loader = results.get("loader")
    if loader:
        phase = f"load_events {loader['events']:,}"
        add(phase, "events/s", loader["rate"], "", (">=", 10_000), "≥ 10,000/s")
        add(phase, "wall time", loader["seconds"], "s")
        add(phase, "peak RSS", loader["max_rss_mb"], "MB", ("<=", 300), "≤ 300 MB")
    payout = results.get("payout")
    if payout:
        phase = f"payout run {payout['currency']}"
        limit = 5.0 if payout["eligible"] <= 1_000 else 30.0 if payout["eligible"] <= 10_000 else None
        add(phase, "restaurants eligible", payout["eligible"])
        add(phase, "payouts created", payout["created"])
        add(phase, "POST → succeeded", payout["wall_seconds"], "s", ("<=", limit) if limit else None,
            "≤ 5 s (1k) / ≤ 30 s (10k)")
        add(phase, "worker started → finished", payout["worker_seconds"], "s")
        add(phase, "payouts/s", payout["payouts_per_second"])
        out.append((phase, "status", payout["status"], "succeeded", "" if payout["status"] == "succeeded" else "MISS"))
    reconciliation = results.get("reconciliation")
    if reconciliation:
        phase = f"reconcile {reconciliation['lines']:,} lines"
        add(phase, "wall time", reconciliation["seconds"], "s", ("<=", 60), "≤ 60 s (1M lines)")
        add(phase, "peak RSS", reconciliation["max_rss_mb"], "MB", ("<=", 300), "≤ 300 MB")
        out.append((phase, "outcomes", ", ".join(f"{name} {count:,}" for name, count in
                                                 sorted(reconciliation["outcomes"].items())), "", ""))
    if results.get("server_rss_mb"):
        add("server", "max gunicorn worker RSS", max(results["server_rss_mb"].values()), "MB")
    return out


def table(results: dict) -> str:
    lines = rows(results)
    header = ("phase", "figure", "measured", "SPEC §9 target", "")
    widths = [max(len(row[i]) for row in [header, *lines]) for i in range(5)]
    rule = "  ".join("-" * width for width in widths)

    def render(row):
        return "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()

    m = results["machine"]
    out = [
        f"machine: {m['nproc']} cores, {m['cpu']}; PostgreSQL {m['postgresql']}; Python {m['python']}",
        f"server: gunicorn {m['gunicorn_workers']} × {m['gunicorn_worker_class']}"
        f" (threads {m['gunicorn_threads']}), DB_CONN_MAX_AGE={m['db_conn_max_age']}, LOG_LEVEL={m['log_level']},"
        f" qcluster Q_WORKERS={m['q_workers']}",
        render(header), rule, *(render(row) for row in lines),
    ]
    if results.get("loader"):
        out.append(f"load_events: {results['loader']['summary']}")
    return "\n".join(out)


def save(results: dict, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=2) + "\n")
