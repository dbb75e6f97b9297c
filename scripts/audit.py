"""`make audit`: pip-audit over the installed environment (the project itself, an
editable install, is not on PyPI and is left out).

Exit 1 on any known vulnerability, listing each with the versions that fix it.
A package pip-audit could not check (its advisory service unreachable, as when
PyPI's per-release JSON API or OSV cannot be reached) is not "no known
vulnerability": that fails too, unless AUDIT_UNREACHABLE=warn, which prints a
loud AUDIT INCOMPLETE line instead and exits 0 (CI sets it on machines that
cannot reach an advisory service; a known vulnerability still fails there).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from typing import Any

PIP_AUDIT = [
    sys.executable,
    "-m",
    "pip_audit",
    "--local",
    "--skip-editable",
    "--format",
    "json",
    "--progress-spinner",
    "off",
]
UNREACHABLE_ENV = "AUDIT_UNREACHABLE"
EXIT_CLEAN, EXIT_FAILED = 0, 1
# pip-audit's own status when it found vulnerabilities (its JSON says which).
PIP_AUDIT_FOUND = 1
SHOWN_SKIPS = 3


@dataclass
class Verdict:
    code: int
    lines: list[str] = field(default_factory=list)


def verdict(report: dict[str, Any], *, allow_unreachable: bool) -> Verdict:
    dependencies = report.get("dependencies", [])
    vulnerable = [d for d in dependencies if d.get("vulns")]
    skipped = [d for d in dependencies if d.get("skip_reason")]
    lines = [
        f"VULNERABLE {d['name']} {d['version']}: {v['id']} "
        f"(fixed in {', '.join(v.get('fix_versions') or []) or 'no release yet'})"
        for d in vulnerable
        for v in d["vulns"]
    ]
    audited = len(dependencies) - len(skipped)
    if skipped:
        reasons = "; ".join(d["skip_reason"] for d in skipped[:SHOWN_SKIPS])
        more = f" (and {len(skipped) - SHOWN_SKIPS} more)" if len(skipped) > SHOWN_SKIPS else ""
        lines.append(
            f"AUDIT INCOMPLETE: {len(skipped)} of {len(dependencies)} packages could not be "
            f"checked: {reasons}{more}"
        )
    if vulnerable:
        return Verdict(EXIT_FAILED, lines)
    if skipped and not allow_unreachable:
        lines.append(f"failing: set {UNREACHABLE_ENV}=warn to accept an incomplete audit")
        return Verdict(EXIT_FAILED, lines)
    lines.append(
        f"no known vulnerability in the {audited} packages checked"
        if audited
        else "no package could be checked: vulnerabilities unknown"
    )
    return Verdict(EXIT_CLEAN, lines)


def main() -> int:
    run = subprocess.run(PIP_AUDIT, capture_output=True, text=True, check=False)
    try:
        report = json.loads(run.stdout)
    except ValueError:
        report = None
    if report is None or run.returncode not in (EXIT_CLEAN, PIP_AUDIT_FOUND):
        tail = run.stderr.strip().splitlines()[-1:] or ["no output"]
        print(f"pip-audit failed (exit {run.returncode}): {tail[0]}", file=sys.stderr)
        return EXIT_FAILED
    result = verdict(report, allow_unreachable=os.environ.get(UNREACHABLE_ENV) == "warn")
    for line in result.lines:
        print(line, file=sys.stderr if result.code else sys.stdout)
    return result.code


if __name__ == "__main__":
    sys.exit(main())
