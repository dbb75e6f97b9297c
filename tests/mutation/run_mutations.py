"""Mutation guardrails: removing any one safety mechanism must turn the suite red.

    python tests/mutation/run_mutations.py          # or: make mutation
    python tests/mutation/run_mutations.py --only token-check --keep

Copies the repository's tracked files (as they are in the working tree, or at
``--ref``) to a scratch directory, never touching this checkout; checks that the
selected tests pass there unmutated; then applies each mutation in turn, runs
the tests named for it, restores the file, and prints mutation -> caught/missed.
Each mutation is a literal search/replace that must match exactly once, so a
refactor that moves the code fails this script loudly instead of silently
turning a mutation into a no-op. Exit status 0 only when every mutation is caught.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# One mutation's tests include a real multi-process takeover; allow for a slow machine.
RUN_TIMEOUT_S = 600
MODEL = "tests/model/test_scan_model.py"
LEASE_SCRIPTS = "tests/coordinator/test_lease_scripts.py"


class MutationError(Exception):
    """The mutation run itself could not be carried out (not a test outcome)."""


@dataclass(frozen=True, slots=True)
class Mutation:
    name: str
    path: str
    search: str
    replace: str
    tests: tuple[str, ...]


MUTATIONS = (
    Mutation(
        name="token-check",
        path="coordinator/store/scripts/publish_snapshot.lua",
        search=(
            "if redis.call('HGET', lease_key, 'token') ~= token then return FENCED_NOT_OWNER end"
        ),
        replace="-- mutated: the publish no longer checks the lease token",
        tests=(LEASE_SCRIPTS, MODEL),
    ),
    Mutation(
        name="epoch-check",
        path="coordinator/store/scripts/publish_snapshot.lua",
        search="if (tonumber(redis.call('HGET', scan_key, 'epoch')) or 0) > epoch then",
        replace="if false then -- mutated: a lower epoch may overwrite a higher one",
        tests=(
            f"{LEASE_SCRIPTS}::test_publish_at_a_lower_epoch_than_written_is_fenced",
            MODEL,
        ),
    ),
    Mutation(
        name="cursor-bounded-trim",
        path="coordinator/store/scripts/publish_snapshot.lua",
        search="redis.call('XTRIM', mailbox_key, 'MINID', cursor)",
        # Keep only the newest entry instead of everything after the cursor.
        replace="redis.call('XTRIM', mailbox_key, 'MAXLEN', 1)",
        tests=(f"{LEASE_SCRIPTS}::test_trim_keeps_every_entry_after_the_cursor", MODEL),
    ),
    Mutation(
        name="report-dedup",
        path="coordinator/actor/fold.py",
        search=(
            "    if item is None or message.report_id in view.state.applied:\n"
            "        return\n"
            "    if item.status in TERMINAL_STRATEGY_STATUSES or message.attempt < item.attempt:\n"
        ),
        # The report-id check alone is redundant with the finished-strategy check
        # (an applied report always leaves its strategy finished), so removing it
        # alone changes nothing observable; the mutation removes both.
        replace="    if item is None:\n        return\n    if message.attempt < item.attempt:\n",
        tests=(
            "tests/coordinator/test_fold.py",
            "tests/coordinator/test_scan_actor.py",
            MODEL,
        ),
    ),
    Mutation(
        name="release-on-shutdown",
        path="coordinator/service/owned_scans.py",
        search="                await self._leases.release(actor.lease)\n",
        replace="                pass  # mutated: leases are not released on shutdown\n",
        tests=(
            "tests/coordinator/test_work.py::test_graceful_stop_hands_scans_over_at_once",
            "tests/integration/test_takeover.py"
            "::test_sigterm_hands_over_without_waiting_for_the_lease",
        ),
    ),
    Mutation(
        name="slot-held-while-reporting",
        path="coordinator/service/strategy_tasks.py",
        search="            await self._runner.run(tasks, free_slot)\n",
        # Slots are given back only once the report and acknowledgement are written.
        replace="            await self._runner.run(tasks, lambda task: None)\n",
        tests=("tests/coordinator/test_strategy_slots.py",),
    ),
    Mutation(
        name="salted-bucket-hash",
        path="coordinator/store/keys.py",
        search="    return zlib.crc32(scan_id.encode()) % buckets\n",
        # Python's str hash: the same within a process, different in each worker.
        replace="    return hash(scan_id) % buckets\n",
        tests=("tests/coordinator/test_keys.py",),
    ),
    Mutation(
        name="signal-side-swapped",
        path="strategies/scoring.py",
        search='    return "long" if direction == LONG else "short"\n',
        # Every strategy's signals are traded the wrong way round.
        replace='    return "short" if direction == LONG else "long"\n',
        tests=("tests/strategies/test_golden_scan.py",),
    ),
    Mutation(
        name="generation-marker-check",
        path="coordinator/store/generation.py",
        search="            self.lost = True\n",
        replace="            self.lost = False  # mutated: a missing marker goes unnoticed\n",
        tests=(
            "tests/coordinator/test_generation.py",
            "tests/web/test_faults_api.py::test_redis_emptied_fails_closed_until_recovery",
        ),
    ),
)


@dataclass(frozen=True, slots=True)
class Outcome:
    mutation: Mutation
    caught: bool
    failing: tuple[str, ...]
    seconds: float


def tracked_files() -> list[str]:
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached"], cwd=ROOT, capture_output=True, check=True
    )
    return [name for name in listed.stdout.decode().split("\0") if name]


def make_scratch(ref: str | None) -> Path:
    """A copy of the repository in a new temporary directory; this checkout is only read."""
    scratch = Path(tempfile.mkdtemp(prefix="oppscan-mutation-"))
    if ref is not None:
        archive = subprocess.run(
            ["git", "archive", "--format=tar", ref], cwd=ROOT, capture_output=True, check=True
        )
        subprocess.run(["tar", "-x", "-C", str(scratch)], input=archive.stdout, check=True)
        return scratch
    for name in tracked_files():
        source = ROOT / name
        if not source.is_file():
            continue  # deleted in the working tree
        target = scratch / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target)
    return scratch


def scratch_env(scratch: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(scratch)
    env["MODEL_PROFILE"] = "mutation"  # the model test without shrinking
    env.pop("PYTEST_ADDOPTS", None)
    return env


def check_imports_from(scratch: Path) -> None:
    """The venv has this checkout installed in editable mode: prove the scratch copy wins."""
    probe = subprocess.run(
        [sys.executable, "-c", "import coordinator.store.keys as k; print(k.__file__)"],
        cwd=scratch,
        env=scratch_env(scratch),
        capture_output=True,
        text=True,
        check=True,
    )
    origin = Path(probe.stdout.strip()).resolve()
    if scratch.resolve() not in origin.parents:
        raise MutationError(f"tests would import the runtime from {origin}, not from {scratch}")


def run_tests(scratch: Path, tests: tuple[str, ...]) -> tuple[bool, tuple[str, ...], str]:
    """Run the tests in the scratch copy: (passed, failing test ids, output tail)."""
    completed = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *tests],
        cwd=scratch,
        env=scratch_env(scratch),
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_S,
        check=False,
    )
    output = completed.stdout + completed.stderr
    failing = tuple(
        dict.fromkeys(re.findall(r"^(?:FAILED|ERROR) (\S+)", output, flags=re.MULTILINE))
    )
    return completed.returncode == 0, failing, output[-3000:]


def apply(scratch: Path, mutation: Mutation) -> str:
    """Apply the mutation; return the original text. Fails loudly if it does not match once."""
    path = scratch / mutation.path
    original = path.read_text()
    found = original.count(mutation.search)
    if found != 1:
        raise MutationError(
            f"mutation {mutation.name}: search text found {found} times in {mutation.path} "
            "(the code moved: update the mutation, do not drop it)"
        )
    path.write_text(original.replace(mutation.search, mutation.replace))
    return original


def run_one(scratch: Path, mutation: Mutation) -> Outcome:
    began = time.monotonic()
    original = apply(scratch, mutation)
    try:
        passed, failing, _ = run_tests(scratch, mutation.tests)
    finally:
        (scratch / mutation.path).write_text(original)
    return Outcome(mutation, not passed, failing, time.monotonic() - began)


def print_table(outcomes: list[Outcome]) -> None:
    width = max(len(outcome.mutation.name) for outcome in outcomes)
    print(f"\n{'mutation':<{width}}  result  seconds  caught by")
    for outcome in outcomes:
        result = "caught" if outcome.caught else "MISSED"
        by = ", ".join(outcome.failing) if outcome.failing else "-"
        print(f"{outcome.mutation.name:<{width}}  {result:<6}  {outcome.seconds:7.1f}  {by}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", action="append", help="run only this mutation (repeatable)")
    parser.add_argument("--ref", help="mutate this git ref instead of the working tree")
    parser.add_argument("--keep", action="store_true", help="keep the scratch directory")
    args = parser.parse_args()
    chosen = [m for m in MUTATIONS if not args.only or m.name in args.only]
    unknown = set(args.only or ()) - {m.name for m in MUTATIONS}
    if unknown:
        parser.error(f"unknown mutations {sorted(unknown)}; known: {[m.name for m in MUTATIONS]}")
    scratch = make_scratch(args.ref)
    try:
        print(f"scratch copy: {scratch}")
        check_imports_from(scratch)
        for mutation in chosen:  # every search text must match before anything runs
            (scratch / mutation.path).write_text(apply(scratch, mutation))
        baseline = tuple(dict.fromkeys(test for m in chosen for test in m.tests))
        passed, failing, tail = run_tests(scratch, baseline)
        if not passed:
            print(tail)
            raise MutationError(f"the unmutated tests fail in the scratch copy: {failing}")
        print(f"baseline: {len(baseline)} test selections pass unmutated")
        outcomes = []
        for mutation in chosen:
            outcome = run_one(scratch, mutation)
            print(f"{mutation.name}: {'caught' if outcome.caught else 'MISSED'}", flush=True)
            outcomes.append(outcome)
        print_table(outcomes)
        return 0 if all(outcome.caught for outcome in outcomes) else 1
    finally:
        if args.keep:
            print(f"kept {scratch}")
        else:
            shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    try:
        sys.exit(main())
    except MutationError as exc:
        print(f"mutation run failed: {exc}", file=sys.stderr)
        sys.exit(2)
