"""The import layering: every import of our packages points down.

Read from the source (the AST of every module, imports inside functions and
``TYPE_CHECKING`` blocks included), so a bad import fails here even when it is
never executed by a test. The layers, lowest first:

- ``config`` (settings, logging, errors) and ``coordinator.errors``: nothing of ours
  beyond themselves;
- ``strategies``: pure, may read ``config``; never ``coordinator`` or ``web``;
- ``coordinator.process`` < ``coordinator.store`` < ``coordinator.actor`` <
  ``coordinator.service`` < the entry points ``coordinator.worker`` and
  ``coordinator.recover``: each may import the layers below it, ``config``,
  ``strategies`` and ``coordinator.errors``;
- ``web``: anything above, never ``bench`` or ``tests``;
- ``config.gunicorn`` is gunicorn's own entry point (the master starts the
  embedded redis-server, and names the web worker class): ``config``,
  ``coordinator.process`` and ``web``.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("coordinator", "config", "strategies", "web", "bench", "tests")

BELOW_COORDINATOR = ("config", "strategies", "coordinator.errors")
PROCESS = "coordinator.process"
STORE = "coordinator.store"
ACTOR = "coordinator.actor"
SERVICE = "coordinator.service"
COORDINATOR_LAYERS = (PROCESS, STORE, ACTOR, SERVICE)

# What each layer may import of ours (besides itself), by module-name prefix.
# The most specific layer a module falls in decides.
ALLOWED: dict[str, tuple[str, ...]] = {
    "config": (),
    "config.gunicorn": ("config", PROCESS, "web"),
    "coordinator.errors": (),
    "strategies": ("config",),
    PROCESS: ("config", "coordinator.errors"),
    STORE: (*BELOW_COORDINATOR, PROCESS),
    ACTOR: (*BELOW_COORDINATOR, PROCESS, STORE),
    SERVICE: (*BELOW_COORDINATOR, PROCESS, STORE, ACTOR),
    "coordinator.worker": (*BELOW_COORDINATOR, *COORDINATOR_LAYERS),
    "coordinator.recover": (*BELOW_COORDINATOR, *COORDINATOR_LAYERS),
    "web": ("config", "strategies", "coordinator"),
}


def within(module: str, prefix: str) -> bool:
    return module == prefix or module.startswith(prefix + ".")


def layer_of(module: str) -> str | None:
    """The most specific layer ``module`` belongs to; None for a module outside them
    (bench, tests, third-party) or a ``coordinator`` module that belongs to none."""
    matching = [layer for layer in ALLOWED if within(module, layer)]
    return max(matching, key=len) if matching else None


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imported_modules(tree: ast.AST, module: str, is_package: bool) -> list[tuple[int, str]]:
    """(line, absolute module name) of every import in the module, ``from x import y``
    counted as both ``x`` and ``x.y`` (y may be a submodule)."""
    found = []
    package = module if is_package else module.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            found.append((node.lineno, base))
            found.extend((node.lineno, f"{base}.{alias.name}") for alias in node.names)
    return found


def ours(module: str) -> bool:
    return any(within(module, package) for package in PACKAGES)


def import_violations(root: Path) -> list[str]:
    """Every import under ``root`` that breaks the layering, as 'path:line: a -> b'."""
    violations = []
    for package in ("coordinator", "config", "strategies", "web"):
        for path in sorted((root / package).rglob("*.py")):
            module = module_name(path, root)
            if module == "coordinator":
                continue  # the package's docstring
            layer = layer_of(module)
            if layer is None:
                violations.append(f"{path.relative_to(root)}: in no layer (add it to ALLOWED)")
                continue
            tree = ast.parse(path.read_text(), filename=str(path))
            reported: set[int] = set()
            for line, target in imported_modules(tree, module, path.name == "__init__.py"):
                if line in reported or not ours(target) or within(target, layer):
                    continue
                if within(target, "coordinator") and layer_of(target) is None:
                    continue  # the package itself, named by a `from coordinator import x`
                if not any(within(target, allowed) for allowed in ALLOWED[layer]):
                    violations.append(f"{path.relative_to(root)}:{line}: {module} -> {target}")
                    reported.add(line)
    return violations


def test_every_import_points_down_the_layers() -> None:
    violations = import_violations(ROOT)
    assert not violations, "imports against the layering:\n" + "\n".join(violations)


PLANTED = {
    "coordinator/store/keys.py": "from coordinator.actor.lease import Lease\n",
    "coordinator/process/clock.py": "def f():\n    from coordinator.store import keys\n",
    "coordinator/actor/fold.py": "from coordinator.service import scans\n",
    "coordinator/service/scans.py": "import web.app\n",
    "strategies/rules/grid.py": "from coordinator.store.records import Report\n",
    "strategies/registry.py": "from web import handlers\n",
    "strategies/evidence/compute.py": "from coordinator.store import codec\n",
    "config/settings.py": "from strategies import registry\n",
    "coordinator/errors.py": "from coordinator.process import clock\n",
    "web/app.py": "from tests import support\n",
    "coordinator/loose.py": "import os\n",
    "coordinator/actor/lease.py": "from ..service import coordinator\n",
}


def test_a_planted_upward_import_is_reported(tmp_path: Path) -> None:
    for name, source in PLANTED.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(source)
    for package in ("coordinator", "config", "strategies", "web"):
        (tmp_path / package / "__init__.py").touch()
    for layer in ("store", "process", "actor", "service"):
        (tmp_path / "coordinator" / layer / "__init__.py").touch()
    reported = "\n".join(import_violations(tmp_path))
    for name in PLANTED:
        assert f"{name}:" in reported, f"{name}'s planted import was not reported:\n{reported}"


def test_downward_imports_are_allowed(tmp_path: Path) -> None:
    allowed = {
        "coordinator/service/scans.py": "from coordinator.actor import fold\n",
        "coordinator/actor/fold.py": "from coordinator.store.records import Report\n",
        "coordinator/store/keys.py": "from coordinator.process.clock import MS_PER_S\n",
        "coordinator/worker.py": "from coordinator.service.coordinator import Coordinator\n",
        "strategies/registry.py": "from config.settings import Settings\n",
        "web/app.py": "from coordinator.service.scans import Scans\n",
    }
    for name, source in allowed.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(source)
    assert import_violations(tmp_path) == []
