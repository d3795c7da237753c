"""What the ``greendispatch`` commands share: the consoles they print to (results on stdout,
spinners, progress and messages on stderr), the ``--data-dir`` option, loading a scenario
with its signals, and the command group that shows flags as flags in ``--help``."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from typer.core import TyperGroup

from greendispatch.errors import InputError
from greendispatch.scenario.loader import load_scenario, resolve_data_dir

# Wide enough for the hub table when the output is a file or a pipe (rich would use 80).
out_console = Console(width=None if sys.stdout.isatty() else 200, emoji=False)
err_console = Console(stderr=True, emoji=False)

DataDirOpt = Annotated[
    str | None,  # not Path, which reads an empty value as the current folder
    typer.Option(
        "--data-dir",
        help="Folder with grid-2023/, prices-2023/, weather-2023/ (default: $GREENDISPATCH_DATA).",
    ),
]


#: What a scenario argument or --scenario names.
SCENARIO_VALUE = "a built-in scenario name or a YAML file"


def nonempty(value: str, name: str, expected: str) -> str:
    """A command-line value that names a file or a scenario (``name``: its flag or argument);
    an empty one (an unset shell variable, say) is refused, not read as the current folder."""
    if not value.strip():
        raise InputError(f"{name}: the value is empty; expected {expected}")
    return value


def _load_with_signals(
    name_or_path: str, data_dir: str | Path | None, *, quiet: bool = False, name: str = "--scenario"
):
    from greendispatch.signals.build import build_signals

    loaded = load_scenario(nonempty(name_or_path, name, SCENARIO_VALUE))
    t0 = time.perf_counter()
    if quiet:
        signals = build_signals(loaded, resolve_data_dir(data_dir))
    else:
        with err_console.status(f"building a year of signals for {loaded.scenario.name}..."):
            signals = build_signals(loaded, resolve_data_dir(data_dir))
    return loaded, signals, time.perf_counter() - t0


def _as_flags(params: list[Any]) -> list[Any]:
    """Give the flags among ``params`` an empty metavar, where typer would print ``<bool>`` in
    ``--help`` as if they took a value (``--json true`` is an error)."""
    for param in params:
        if getattr(param, "is_flag", False) and param.metavar is None:
            param.metavar = ""
    return params


def _plain_flags(command: Any, ctx: typer.Context) -> None:
    """Show the flags of ``command`` and of its subcommands, ``--help`` among them, as flags."""
    _as_flags(command.get_params(ctx))
    for sub in getattr(command, "commands", {}).values():
        _plain_flags(sub, ctx)


class PlainFlagsGroup(TyperGroup):
    """The top-level command group: it and every command it hands out show flags as flags."""

    def get_params(self, ctx: typer.Context) -> list[Any]:
        return _as_flags(super().get_params(ctx))

    def get_command(self, ctx: typer.Context, cmd_name: str) -> Any:
        command = super().get_command(ctx, cmd_name)
        if command is not None:
            _plain_flags(command, ctx)
        return command
