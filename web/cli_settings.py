"""`oppscan settings`: the settings this machine's environment gives the service
(secrets hidden), or with --markdown the README's settings table, generated from
config/settings.py.
"""

from __future__ import annotations

from pathlib import Path

import click

from config import reference
from config.errors import SettingsError
from config.settings import load_settings


@click.command("settings")
@click.option(
    "--markdown", is_flag=True, help="The settings table (variable, default, meaning) in Markdown."
)
@click.option(
    "--write",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Replace the settings table in this file (between its marker lines) instead of "
    "printing it; implies --markdown.",
)
def settings_command(markdown: bool, write: Path | None) -> None:
    """Print each setting as NAME=value, as the environment (and the TOML file) set it,
    secrets as ***; with --markdown, the table of every setting."""
    if write is not None:
        try:
            document = reference.with_table(write.read_text(), reference.markdown_table())
        except ValueError as exc:
            raise click.ClickException(f"{write}: {exc}") from None
        write.write_text(document)
        return
    if markdown:
        click.echo(reference.markdown_table())
        return
    try:
        # Printing the settings signs and verifies nothing: an unset secret is shown unset.
        settings = load_settings(require_secret=False)
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from None
    for name, value in reference.effective_values(settings):
        click.echo(f"{name}={value}")
