"""What an evaluation depends on besides the data: the rule and the method.

A rule's fingerprint hashes the source of the module that defines it (its
code and its parameters' defaults live there), of the strategy package's
shared modules (indicators, the opportunity shape), of every module of this
package (the method), and the evaluation settings. Change any of them
and the evidence is computed again; change none and every worker agrees on
the key without talking to each other.
"""

from __future__ import annotations

import functools
import hashlib
import inspect
from pathlib import Path

from strategies.evidence.walk_forward import Config
from strategies.registry import StrategySpec

# Hex digits of the SHA-256 kept in key names.
FINGERPRINT_HEX_DIGITS = 16
PACKAGE_DIR = Path(__file__).resolve().parent
STRATEGIES_DIR = PACKAGE_DIR.parent


@functools.cache
def method_source() -> bytes:
    shared = [*sorted(STRATEGIES_DIR.glob("*.py")), *sorted(PACKAGE_DIR.glob("*.py"))]
    return b"".join(path.read_bytes() for path in shared)


def fingerprint(spec: StrategySpec, config: Config) -> str:
    module = inspect.getmodule(spec.run)
    rule = inspect.getsource(module) if module is not None else spec.name
    digest = hashlib.sha256()
    digest.update(rule.encode())
    digest.update(method_source())
    digest.update(repr(config).encode())
    return digest.hexdigest()[:FINGERPRINT_HEX_DIGITS]
