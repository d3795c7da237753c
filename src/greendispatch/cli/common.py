"""What the ``greendispatch`` commands share: the consoles they print to (results on stdout,
spinners, progress and messages on stderr), the ``--data-dir`` option, and loading a scenario
with its signals."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from greendispatch.scenario.loader import load_scenario, resolve_data_dir

# Wide enough for the hub table when the output is a file or a pipe (rich would use 80).
out_console = Console(width=None if sys.stdout.isatty() else 200)
err_console = Console(stderr=True)

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
