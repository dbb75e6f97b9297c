"""The Markdown tables of one run, written between markers into docs/benchmarks.md:
medians over the rounds, ratios to the best peer and to the floor, the service's
targets met or missed, and the machine's load average during the run."""

from __future__ import annotations

import math
import time
from collections import defaultdict
from collections.abc import Iterable

from bench.procs import ROOT
from bench.stats import median

DOC = ROOT / "docs" / "benchmarks.md"
BEGIN = "<!-- bench:begin (written by `make bench`; edits inside are overwritten) -->"
END = "<!-- bench:end -->"
PEERS = ("saq", "arq", "celery")
# The fan-out row the target is judged on. Runs before 2026-11-26 12:30 UTC recorded it
# as plain `oppscan` (aiohttp's client until 11:45, picows's after), judged in theirs.
FANOUT_JUDGED = "oppscan (picows client)"
FANOUT_JUDGED_BEFORE = "oppscan"
Row = dict[str, object]


def write(rows: list[Row], meta: dict[str, object]) -> None:
    section = render(rows, meta)
    text = DOC.read_text()
    if BEGIN in text and END in text:
        head, _, rest = text.partition(BEGIN)
        _, _, tail = rest.partition(END)
        text = f"{head}{BEGIN}\n{section}\n{END}{tail}"
    else:
        text = f"{text.rstrip()}\n\n{BEGIN}\n{section}\n{END}\n"
    DOC.write_text(text)


def fmt(value: float | None, digits: int = 1) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{value:,.{digits}f}"


def ratio(a: float | None, b: float | None) -> float | None:
    if a is None or b is None or math.isnan(a) or math.isnan(b) or b == 0:
        return None
    return a / b


def grouped(rows: Iterable[Row], workload: str) -> dict[str, dict[str, list[Row]]]:
    """config -> system -> rows (rounds), in first-seen order."""
    out: dict[str, dict[str, list[Row]]] = defaultdict(lambda: defaultdict(list))
    for row in rows:
        if row["workload"] == workload and "error" not in row:
            out[str(row["config"])][str(row["system"])].append(row)
    return out


def med(rows: list[Row], key: str) -> float:
    return median([float(r[key]) for r in rows if r.get(key) is not None])  # type: ignore[arg-type]


def errors_of(rows: list[Row], workload: str) -> list[str]:
    return [
        f"{r['system']} ({r['config']}, round {r['round']}): "
        + " ".join(str(r["error"]).split())[-200:]
        for r in rows
        if r["workload"] == workload and "error" in r
    ]


class Targets:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def add(self, name: str, met: bool | None, figure: str) -> None:
        verdict = "not measured" if met is None else ("**met**" if met else "**missed**")
        self.lines.append(f"| {name} | {verdict} | {figure} |")


def throughput_section(rows: list[Row], targets: Targets) -> list[str]:
    out = [
        "### 3. Scan throughput (closed loop of 8 scans, 14 strategies each)",
        "",
        "| config | system | scans/s | p50 ms | p99 ms | scans/s ÷ best peer | p50 ÷ best peer's |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for config, systems in grouped(rows, "throughput").items():
        peers = {s: med(r, "scans_per_s") for s, r in systems.items() if s in PEERS}
        best = max(peers, key=lambda s: peers[s]) if peers else None
        best_rate = peers.get(best) if best else None
        best_p50 = med(systems[best], "p50_ms") if best else None
        for system, runs in systems.items():
            rate, p50 = med(runs, "scans_per_s"), med(runs, "p50_ms")
            out.append(
                f"| {config} | {system} | {fmt(rate)} | {fmt(p50)} | {fmt(med(runs, 'p99_ms'))} "
                f"| {fmt(ratio(rate, best_rate), 2)} | {fmt(ratio(p50, best_p50), 2)} |"
            )
        if "oppscan" in systems and best and config.startswith("noop"):
            ours = systems["oppscan"]
            rate_x = ratio(med(ours, "scans_per_s"), best_rate)
            p50_x = ratio(med(ours, "p50_ms"), best_p50)
            targets.add(
                f"throughput {config}: ≥ 3× best peer's scans/s",
                None if rate_x is None else rate_x >= 3,
                f"{fmt(rate_x, 2)}× ({best})",
            )
            targets.add(
                f"throughput {config}: p50 ≤ ¼ of best peer's",
                None if p50_x is None else p50_x <= 0.25,
                f"{fmt(p50_x, 2)}× ({best})",
            )
    return [*out, ""]


def status_section(rows: list[Row], targets: Targets) -> list[str]:
    out = [
        "### 2. Status read through HTTP (wrk, 64 connections, one running scan)",
        "",
        "| config | system | req/s | p50 ms | p99 ms | req/s ÷ floor | p99 ÷ floor's "
        "| req/s ÷ best peer |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for config, systems in grouped(rows, "status_read").items():
        floor = systems.get("floor", [])
        floor_rate, floor_p99 = med(floor, "req_per_s"), med(floor, "p99_ms")
        peers = {s: med(r, "req_per_s") for s, r in systems.items() if s in PEERS}
        best = max(peers, key=lambda s: peers[s]) if peers else None
        best_rate = peers.get(best) if best else None
        for system, runs in systems.items():
            rate, p99 = med(runs, "req_per_s"), med(runs, "p99_ms")
            out.append(
                f"| {config} | {system} | {fmt(rate, 0)} | {fmt(med(runs, 'p50_ms'), 2)} "
                f"| {fmt(p99, 2)} | {fmt(ratio(rate, floor_rate), 2)} "
                f"| {fmt(ratio(p99, floor_p99), 2)} | {fmt(ratio(rate, best_rate), 2)} |"
            )
        ours = systems.get("oppscan")
        if ours and floor:
            rate_x = ratio(med(ours, "req_per_s"), floor_rate)
            p99_x = ratio(med(ours, "p99_ms"), floor_p99)
            targets.add(
                f"status read {config}: ≥ 0.85× floor's req/s",
                None if rate_x is None else rate_x >= 0.85,
                f"{fmt(rate_x, 2)}×",
            )
            targets.add(
                f"status read {config}: p99 ≤ 1.2× floor's",
                None if p99_x is None else p99_x <= 1.2,
                f"{fmt(p99_x, 2)}×",
            )
        if ours and "saq" in systems:
            saq_x = ratio(med(ours, "req_per_s"), peers["saq"])
            targets.add(
                f"status read {config}: ≥ 1.3× SAQ's `Queue.job()` handler",
                None if saq_x is None else saq_x >= 1.3,
                f"{fmt(saq_x, 2)}×",
            )
        cached = systems.get("oppscan (304)")
        if cached and floor:
            x = ratio(med(cached, "req_per_s"), floor_rate)
            targets.add(
                f"status read {config}: conditional read (304) faster than the floor",
                None if x is None else x > 1,
                f"{fmt(x, 2)}× the floor's req/s",
            )
    return [*out, ""]


def visibility_section(rows: list[Row], targets: Targets) -> list[str]:
    out = [
        "### 1. Visibility (500 scans; each read at once and every 5 ms for 100 ms, "
        "from a second process)",
        "",
        "| system | reads | not a known state | share |",
        "|---|---:|---:|---:|",
    ]
    for _config, systems in grouped(rows, "visibility").items():
        for system, runs in systems.items():
            reads = sum(int(r.get("reads", 0)) for r in runs)  # type: ignore[call-overload]
            unknown = sum(int(r.get("unknown_reads", 0)) for r in runs)  # type: ignore[call-overload]
            share = fmt(100 * unknown / max(reads, 1), 2)
            out.append(f"| {system} | {reads:,} | {unknown:,} | {share} % |")
            if system == "oppscan":
                targets.add(
                    "visibility: zero unknown reads", unknown == 0, f"{unknown} of {reads:,}"
                )
    return [*out, ""]


def takeover_section(rows: list[Row], targets: Targets) -> list[str]:
    out = [
        "### 4. Takeover (2 workers; strategies of 5 × 2 s; kill -9 of the owner after 1 s)",
        "",
        "| system | running again, s after the kill | terminal, s after the kill "
        "| rounds that never finished | terminal ÷ ours |",
        "|---|---:|---:|---:|---:|",
    ]
    for _config, systems in grouped(rows, "takeover").items():
        ours = med(systems.get("oppscan", []), "terminal_s")
        for system, runs in systems.items():
            never = sum(1 for r in runs if r.get("terminal_s") is None)
            terminal = med(runs, "terminal_s")
            out.append(
                f"| {system} | {fmt(med(runs, 'running_again_s'), 2)} | {fmt(terminal, 2)} "
                f"| {never} of {len(runs)} | {fmt(ratio(terminal, ours), 1)} |"
            )
        if "oppscan" in systems:
            again = [r.get("running_again_s") for r in systems["oppscan"]]
            worst = max((float(a) for a in again if a is not None), default=None)  # type: ignore[arg-type]
            targets.add(
                "takeover: running again within lease TTL (5 s) + 0.5 s",
                None if worst is None else worst <= 5.5 and None not in again,
                f"worst of rounds {fmt(worst, 2)} s",
            )
            peers = {s: med(r, "terminal_s") for s, r in systems.items() if s in PEERS}
            finite = {s: v for s, v in peers.items() if not math.isnan(v)}
            if finite:
                best = min(finite, key=lambda s: finite[s])
                x = ratio(finite[best], ours)
                targets.add(
                    "takeover: ≥ 3× faster to terminal than the best peer",
                    None if x is None else x >= 3,
                    f"{fmt(x, 1)}× ({best} {fmt(finite[best], 1)} s, ours {fmt(ours, 1)} s)",
                )
    return [*out, ""]


def fanout_section(rows: list[Row], targets: Targets) -> list[str]:
    out = [
        "### 6. Websocket fan-out (1,000 clients on 100 running scans, 2 web workers)",
        "",
        "| system (client) | rounds | p50 ms publish → receipt | p99 ms | p99 of each round "
        "| messages (all rounds) | clients that saw the terminal snapshot |",
        "|---|---:|---:|---:|---|---:|---:|",
    ]
    for _config, systems in grouped(rows, "fanout").items():
        judged = FANOUT_JUDGED if FANOUT_JUDGED in systems else FANOUT_JUDGED_BEFORE
        for system, runs in systems.items():
            p99 = med(runs, "p99_ms")
            rounds = ", ".join(fmt(r.get("p99_ms", math.nan), 1) for r in runs)  # type: ignore[arg-type]
            samples = sum(int(r.get("samples", 0)) for r in runs)  # type: ignore[call-overload]
            saw = "; ".join(f"{r.get('clients_saw_terminal')}/{r.get('clients')}" for r in runs)
            out.append(
                f"| {system} | {len(runs)} | {fmt(med(runs, 'p50_ms'), 2)} | {fmt(p99, 2)} "
                f"| {rounds} | {samples:,} | {saw} |"
            )
            if system == judged:
                targets.add(
                    "fan-out: p99 publish → receipt under 50 ms",
                    None if math.isnan(p99) else p99 < 50,
                    f"{fmt(p99, 1)} ms",
                )
    return [*out, ""]


def scale_section(rows: list[Row], targets: Targets) -> list[str]:
    out = [
        "### 5. Scale (running scans whose strategy waits on market data; "
        "2 web workers + 1 worker)",
        "",
        "| config | running after the hold | leases lost | loop lag p99 ms (web workers, "
        "at most) | /healthz p99 ms | RSS MB per process | Redis bytes per running scan "
        "| per finished scan (MEMORY USAGE, results excluded) |",
        "|---|---:|---:|---:|---:|---|---:|---:|",
    ]
    for config, systems in grouped(rows, "scale").items():
        for run in systems.get("oppscan", []):
            probe = run.get("health_probe") or {}
            rss = run.get("rss_mb") or {}
            rss_values = [v for v in rss.values() if v is not None]  # type: ignore[union-attr]
            out.append(
                f"| {config} | {run.get('running_after_hold')} | {run.get('leases_lost')} "
                f"| {fmt(run.get('loop_lag_p99_ms_at_most'), 1)} "
                f"| {fmt(probe.get('p99_ms'), 1)} "  # type: ignore[union-attr]
                f"| {', '.join(fmt(v, 0) for v in rss_values)} "
                f"| {run.get('redis_bytes_per_running_scan'):,} "
                f"| {run.get('redis_bytes_per_finished_scan'):,} |"
            )
            lost = int(run.get("leases_lost", -1))  # type: ignore[call-overload]
            targets.add(f"scale ({config}): zero lost leases", lost == 0, str(lost))
            lag = run.get("loop_lag_p99_ms_at_most")
            targets.add(
                f"scale ({config}): loop lag p99 under 100 ms (the service's lag histogram)",
                None if lag is None else float(lag) < 100,  # type: ignore[arg-type]
                f"at most {fmt(lag, 1)} ms",
            )
            biggest = max(rss_values, default=None)
            targets.add(
                f"scale ({config}): under 300 MB RSS per process",
                None if biggest is None else biggest < 300,
                f"largest {fmt(biggest, 0)} MB",
            )
            retained = run.get("redis_bytes_per_finished_scan")
            targets.add(
                f"scale ({config}): under 8 KB of Redis per finished scan (results excluded)",
                None if retained is None else int(retained) < 8 * 1024,  # type: ignore[call-overload]
                f"{retained:,} bytes",
            )
    return [*out, ""]


def render(rows: list[Row], meta: dict[str, object]) -> str:
    targets = Targets()
    samples = meta.get("load_samples") or []
    one_minute = [s[0] for s in samples]  # type: ignore[index, union-attr]
    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(float(meta["started"])))  # type: ignore[arg-type]
    out = [
        f"Run of {when}: {meta['rounds']} rounds, {meta['duration_s']} s, results in "
        f"`{meta['results']}`. Load average (1 min) during the run: min "
        f"{fmt(min(one_minute, default=None), 2)}, median {fmt(median(one_minute), 2)}, max "
        f"{fmt(max(one_minute, default=None), 2)} on 2 cores shared with other work: "
        "compare the ratios, not the raw figures.",
        "",
    ]
    sections = (
        ("throughput", throughput_section),
        ("status_read", status_section),
        ("visibility", visibility_section),
        ("takeover", takeover_section),
        ("fanout", fanout_section),
        ("scale", scale_section),
    )
    failures: list[str] = []
    for workload, section in sections:
        if any(r["workload"] == workload for r in rows):
            out += section(rows, targets)
            failures += errors_of(rows, workload)
    out += [
        "### Targets",
        "",
        "| target | verdict | figure |",
        "|---|---|---|",
    ]
    out += [*targets.lines, ""]
    if failures:
        out += (
            ["Runs that failed (left out of the medians):", ""]
            + [f"- {f}" for f in failures]
            + [""]
        )
    return "\n".join(out)
