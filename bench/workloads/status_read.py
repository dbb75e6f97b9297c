"""Workload 2, status read through HTTP: CONNECTIONS concurrent connections (wrk) on
one running scan's status, on 1 and 2 web workers: req/s and p50/p99.

Runs in the runner: wrk (Debian's package) is the load generator, so the client's
cost stays small next to the servers'.
"""

from __future__ import annotations

import re
import shutil
import subprocess

CONNECTIONS = 64
WRK_THREADS = 1
MEASURE_S = 3
UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def wrk_binary() -> str:
    found = shutil.which("wrk")
    if found is None:
        raise SystemExit("wrk is not installed: `make bench` installs it (apt-get install wrk)")
    return found


def duration_ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()  # type: ignore[union-attr]
    return float(number) * UNITS_MS[unit]


def run_wrk(url: str, headers: dict[str, str], measure_s: int = MEASURE_S) -> dict[str, object]:
    argv = [wrk_binary(), "-t", str(WRK_THREADS), "-c", str(CONNECTIONS), "-d", f"{measure_s}s"]
    argv.append("--latency")
    for name, value in headers.items():
        argv += ["-H", f"{name}: {value}"]
    output = subprocess.run(
        [*argv, url], capture_output=True, text=True, check=True, timeout=measure_s + 30
    ).stdout
    percentiles = dict(re.findall(r"^\s+(50|99)%\s+(\S+)$", output, re.MULTILINE))
    rate = re.search(r"Requests/sec:\s+([\d.]+)", output)
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    errors = re.search(r"Socket errors: (.*)$", output, re.MULTILINE)
    return {
        "req_per_s": float(rate.group(1)) if rate else 0.0,
        "p50_ms": duration_ms(percentiles["50"]) if "50" in percentiles else None,
        "p99_ms": duration_ms(percentiles["99"]) if "99" in percentiles else None,
        "non_2xx_3xx": int(bad.group(1)) if bad else 0,
        "socket_errors": errors.group(1) if errors else None,
    }
