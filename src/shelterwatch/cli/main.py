"""`shelterwatch`: init, serve, import, tokens, log verification (and the domains' sub-commands).

Each command's module is imported only when that command runs: the commands between them pull
in most of the stack (the coverage model's scipy, the audits' spreadsheet and XML schemas, the
alert feeds), and an operator's `shelterwatch import` should not wait seconds for all of that
before it reads its first row. `--help` still lists every command.

A command's module is imported with the cyclic collector paused, and what the import made is
then frozen out of its reach (`gc.freeze`): the ~70,000 objects of SQLAlchemy, pydantic and rich
live as long as the process, yet every collection set off while importing them walked them all
again, and so did the interpreter's last one at exit — about 0.25 of the 0.6 CPU seconds a
command spent starting and stopping. An import leaves a few hundred cyclic garbage objects,
which are frozen with the rest (kilobytes, once). Only the program does this (`main`, the
`shelterwatch` executable): a test that calls `app` in its own process keeps its collector.
"""

from __future__ import annotations

import gc
import importlib
from types import ModuleType
from typing import Any, ClassVar

import typer
from typer import _click as click  # the click typer is built on (it vendors its own)
from typer.core import TyperGroup

# name → "module:attribute" (a function is one command; a Typer app a group of sub-commands)
COMMANDS = {
    "init": "shelterwatch.cli.registry:init",
    "serve": "shelterwatch.cli.registry:serve",
    "stream": "shelterwatch.cli.stream:stream",
    "import": "shelterwatch.cli.registry:import_file",
    "token": "shelterwatch.cli.tokens:app",
    "log": "shelterwatch.cli.verify:app",
    "alerts": "shelterwatch.cli.alerts:app",
    "pack": "shelterwatch.cli.pack:app",
    "basemap": "shelterwatch.cli.basemap:app",
    "worker": "shelterwatch.cli.escalation:worker",
    "demo": "shelterwatch.cli.escalation:demo",
    "simulate": "shelterwatch.cli.simulate:simulate",
    "keyholders": "shelterwatch.cli.escalation:keyholders_app",
    "patrols": "shelterwatch.cli.escalation:patrols_app",
    "doors": "shelterwatch.cli.escalation:doors_app",
    "telegram": "shelterwatch.cli.telegram:app",
    "rebuild": "shelterwatch.cli.rebuild:rebuild",
    "backup": "shelterwatch.cli.backup:backup",
    "restore": "shelterwatch.cli.backup:restore",
    "stats": "shelterwatch.cli.stats:app",
    "coverage": "shelterwatch.cli.coverage:coverage",
    "audits": "shelterwatch.cli.audits:app",
}


def import_frozen(module: str) -> ModuleType:
    """Import `module` with the collector paused, then move every object so far out of its
    reach for good (the module docstring says why)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        return importlib.import_module(module)
    finally:
        gc.freeze()
        if was_enabled:
            gc.enable()


def load_command(name: str, *, freeze: bool = False) -> click.Command:
    """The click command for one entry of COMMANDS, importing its module now."""
    module, _, attribute = COMMANDS[name].partition(":")
    imported = import_frozen(module) if freeze else importlib.import_module(module)
    target: Any = getattr(imported, attribute)
    if isinstance(target, typer.Typer):
        command: click.Command = typer.main.get_group(target)  # a group even of one
    else:
        single = typer.Typer()
        single.command(name)(target)
        command = typer.main.get_command(single)
    command.name = name
    return command


class LazyCommands(TyperGroup):
    """A command group whose commands are imported when asked for."""

    freeze_imports: ClassVar[bool] = False  # set by `main`: the program, not a test

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS:
            return None
        if cmd_name not in self.commands:
            self.commands[cmd_name] = load_command(cmd_name, freeze=self.freeze_imports)
        return self.commands[cmd_name]

    def format_help(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        for name in COMMANDS:  # the help lists them all: only here is everything imported
            self.get_command(ctx, name)
        super().format_help(ctx, formatter)


app = typer.Typer(name="shelterwatch", cls=LazyCommands, no_args_is_help=True,
                  add_completion=False,
                  help="Keeps a city's bomb shelters open and ready when the siren sounds.")


@app.callback()
def _root() -> None:
    """Keeps a city's bomb shelters open and ready when the siren sounds."""


def main() -> None:
    """The `shelterwatch` program."""
    LazyCommands.freeze_imports = True
    app()


if __name__ == "__main__":
    main()
