"""The settings reference: every environment variable the service reads, with its
default and meaning, as the README's settings table (`oppscan settings --markdown`)
and as the effective values (`oppscan settings`).

The rows of the settings come from config/settings.py: each field's EnvVar mark
and the docstring under it. The few variables that are not fields are listed in
OTHER_VARIABLES here.
"""

from __future__ import annotations

import ast
import inspect
import itertools
import textwrap
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import msgspec

from config.data_dir import DATA_DIR_ENV, DEFAULT_DATA_DIR
from config.settings import CONFIG_ENV, DEFAULT_TOML_PATH, EnvVar, Settings, env_vars

# The README's table sits between these lines; the test of the README checks that
# what is between them is what `oppscan settings --markdown` prints.
TABLE_BEGIN = (
    "<!-- generated from config/settings.py by `oppscan settings --write README.md`: "
    "edit there, not here -->"
)
TABLE_END = "<!-- end of the settings table -->"
UNSET = "unset"
# The audit script's switch (scripts/audit.py reads it; config imports no script).
AUDIT_UNREACHABLE_ENV = "AUDIT_UNREACHABLE"


@dataclass(frozen=True, slots=True)
class Variable:
    """One row of the settings table."""

    name: str
    default: str
    meaning: str


# Variables read outside Settings: where the settings and the private data live,
# and the audit's switch.
OTHER_VARIABLES = (
    Variable(
        CONFIG_ENV,
        f"`{DEFAULT_TOML_PATH.parent.name}/{DEFAULT_TOML_PATH.name}`",
        "a TOML file of settings, keyed by field name (`lease_ttl_ms = 3000`); the "
        "environment wins over it",
    ),
    Variable(
        DATA_DIR_ENV,
        f"`{DEFAULT_DATA_DIR}`",
        "the data directory (0700): the embedded redis-server's files and password, the "
        "development secret",
    ),
    Variable(
        AUDIT_UNREACHABLE_ENV,
        UNSET,
        "`warn`: `make audit` prints `AUDIT INCOMPLETE` and passes when a package could not be "
        "checked (no advisory service reached); unset, that fails it. A known vulnerability "
        "fails it either way",
    ),
)


def field_docstrings(cls: type) -> dict[str, str]:
    """The string literal under each annotated field of ``cls``, whitespace folded:
    the attribute docstrings Sphinx and pydantic read, taken from the source."""
    tree = ast.parse(textwrap.dedent(inspect.getsource(cls)))
    body = tree.body[0]
    assert isinstance(body, ast.ClassDef)
    docstrings: dict[str, str] = {}
    for field, under in itertools.pairwise(body.body):
        if (
            isinstance(field, ast.AnnAssign)
            and isinstance(field.target, ast.Name)
            and isinstance(under, ast.Expr)
            and isinstance(under.value, ast.Constant)
            and isinstance(under.value.value, str)
        ):
            docstrings[field.target.id] = " ".join(under.value.value.split())
    return docstrings


def as_env_value(value: Any) -> str:
    """A value as it would be written in the environment."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, tuple):
        return ",".join(value)
    return str(value)


def shown_default(mark: EnvVar, default: Any) -> str:
    if mark.shown_default is not None:
        return mark.shown_default
    written = as_env_value(default)
    return f"`{written}`" if written else UNSET


def setting_rows() -> list[Variable]:
    """A row per setting field, in field order."""
    docstrings = field_docstrings(Settings)
    defaults = {field.name: field.default for field in msgspec.structs.fields(Settings)}
    return [
        Variable(f"`{mark.name}`", shown_default(mark, defaults[name]), docstrings.get(name, ""))
        for name, mark in env_vars().items()
    ]


def markdown_table() -> str:
    """The README's settings table: every setting, then the other variables."""
    rows = setting_rows() + [
        Variable(f"`{row.name}`", row.default, row.meaning) for row in OTHER_VARIABLES
    ]
    lines = ["| variable | default | meaning |", "|---|---|---|"]
    lines += [f"| {row.name} | {row.default} | {escaped(row.meaning)} |" for row in rows]
    return "\n".join(lines)


def escaped(cell: str) -> str:
    """A table cell's text: a bare ``|`` would end the cell."""
    return cell.replace("|", "\\|")


def with_table(document: str, table: str) -> str:
    """``document`` with the text between TABLE_BEGIN and TABLE_END replaced by ``table``."""
    head, begin, rest = document.partition(TABLE_BEGIN + "\n")
    _old, end, tail = rest.partition(TABLE_END)
    if not begin or not end:
        raise ValueError(f"no settings table: the lines {TABLE_BEGIN} and {TABLE_END} are needed")
    return f"{head}{begin}{table}\n{end}{tail}"


def table_in(document: str) -> str:
    """The text between TABLE_BEGIN and TABLE_END (empty when they are missing)."""
    _head, _begin, rest = document.partition(TABLE_BEGIN + "\n")
    table, _end, _tail = rest.partition("\n" + TABLE_END)
    return table


def effective_values(settings: Settings) -> Iterable[tuple[str, str]]:
    """Each setting's environment name and value as ``settings`` hold it, secrets as
    their EnvVar shows them."""
    for name, mark in env_vars().items():
        value = getattr(settings, name)
        if value and mark.shown_as is not None:
            yield mark.name, mark.shown_as(value)
        else:
            yield mark.name, as_env_value(value)
