"""The settings reference: every setting has an environment name and a meaning, and the
README's settings table is the one generated from config/settings.py."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import msgspec
import pytest

from config import reference
from config.data_dir import DATA_DIR_ENV
from config.settings import CONFIG_ENV, ENV_NAMES, EnvVar, Settings, env_vars
from scripts.audit import UNREACHABLE_ENV

README = Path(__file__).resolve().parents[1] / "README.md"
# Fields of Settings that are not settings: each process fills them in itself.
NOT_SETTINGS = {"worker_id"}


def undocumented(cls: type[msgspec.Struct]) -> dict[str, str]:
    """Each field of ``cls`` lacking an EnvVar or a docstring, with what it lacks."""
    docstrings = reference.field_docstrings(cls)
    missing: dict[str, str] = {}
    for field in msgspec.structs.fields(cls):
        marks = [m for m in getattr(field.type, "__metadata__", ()) if isinstance(m, EnvVar)]
        if not marks:
            missing[field.name] = "no EnvVar (environment name)"
        elif not docstrings.get(field.name):
            missing[field.name] = "no docstring (its meaning in the settings table)"
    return missing


class HalfDocumented(msgspec.Struct, frozen=True, kw_only=True):
    named: Annotated[int, EnvVar("NAMED")] = 1
    """has both"""
    unnamed: int = 2
    """has a meaning but no environment name"""
    silent: Annotated[int, EnvVar("SILENT")] = 3


def test_the_check_catches_a_field_without_a_name_or_a_meaning() -> None:
    assert undocumented(HalfDocumented) == {
        "unnamed": "no EnvVar (environment name)",
        "silent": "no docstring (its meaning in the settings table)",
    }


def test_every_settings_field_has_an_environment_name_and_a_meaning() -> None:
    """A setting added without its environment name or its row fails here."""
    missing = {
        name: lacks for name, lacks in undocumented(Settings).items() if name not in NOT_SETTINGS
    }
    assert not missing, f"document these Settings fields: {missing}"
    names = [mark.name for mark in env_vars().values()]
    assert len(names) == len(set(names)), "two fields share an environment name"
    assert set(ENV_NAMES.values()) == set(Settings.__struct_fields__) - NOT_SETTINGS


def test_the_readme_table_is_the_generated_one() -> None:
    table = reference.table_in(README.read_text())
    assert table, f"README.md lost its settings table markers ({reference.TABLE_BEGIN})"
    assert table == reference.markdown_table(), (
        "README.md's settings table is not what config/settings.py says: "
        "run `oppscan settings --write README.md`"
    )


def test_the_table_has_a_row_per_variable_with_its_default() -> None:
    rows = {
        cells[0]: cells[1:]
        for line in reference.markdown_table().splitlines()[2:]
        for cells in [[cell.strip() for cell in line.strip("|").split(" | ")]]
    }
    assert set(rows) == {f"`{name}`" for name in ENV_NAMES} | {
        f"`{v.name}`" for v in reference.OTHER_VARIABLES
    }
    assert all(len(cells) == 2 and cells[1] for cells in rows.values())
    assert rows["`JWT_SECRET`"][0] == "required"
    assert rows["`DEFAULT_STRATEGIES`"][0] == "all"
    assert rows["`DEV_MODE`"][0] == "`0`"
    assert rows["`MAX_BODY_BYTES`"][0] == "`16384`"
    assert rows["`REDIS_URL`"][0] == reference.UNSET


def test_variables_read_outside_settings_are_listed() -> None:
    listed = {variable.name for variable in reference.OTHER_VARIABLES}
    assert {CONFIG_ENV, DATA_DIR_ENV, UNREACHABLE_ENV} <= listed


def test_a_table_is_replaced_between_its_markers_only() -> None:
    document = f"before\n{reference.TABLE_BEGIN}\n| old |\n{reference.TABLE_END}\nafter\n"
    rewritten = reference.with_table(document, "| new |")
    assert rewritten == f"before\n{reference.TABLE_BEGIN}\n| new |\n{reference.TABLE_END}\nafter\n"
    assert reference.table_in(rewritten) == "| new |"
    with pytest.raises(ValueError, match="no settings table"):
        reference.with_table("no markers here\n", "| new |")
