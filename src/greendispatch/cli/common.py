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

from greendispatch.scenario.loader import load_scenario, resolve_data_dir

# Wide enough for the hub table when the output is a file or a pipe (rich would use 80).
out_console = Console(width=None if sys.stdout.isatty() else 200, emoji=False)
err_console = Console(stderr=True, emoji=False)

DataDirOpt = Annotated[
    Path | None,
    typer.Option(
        "--data-dir",
        help="Folder with grid-2023/, prices-2023/, weather-2023/ (default: $GREENDISPATCH_DATA).",
    ),
]


def _load_with_signals(name_or_path: str, data_dir: Path | None, *, quiet: bool = False):
    from greendispatch.signals.build import build_signals

    loaded = load_scenario(name_or_path)
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
