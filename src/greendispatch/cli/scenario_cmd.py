"""``greendispatch scenario``: list, show, validate and export scenarios."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from greendispatch.cli.common import (
    SCENARIO_VALUE,
    DataDirOpt,
    _load_with_signals,
    err_console,
    nonempty,
    out_console,
)
from greendispatch.errors import InputError, Problem
from greendispatch.paths import os_reason
from greendispatch.scenario.dump import dump_scenario
from greendispatch.scenario.loader import (
    DEFAULT_SCENARIO,
    LoadedScenario,
    builtin_names,
    builtin_text,
    load_scenario,
    resolve_data_dir,
    scenario_warnings,
)

scenario_app = typer.Typer(help="List, show, validate and export scenarios.", no_args_is_help=True)


@scenario_app.command("list")
def scenario_list() -> None:
    """List the built-in scenarios."""
    from greendispatch.scenario.loader import parse_scenario

    for name in builtin_names():
        s = parse_scenario(builtin_text(name), name, builtin=True).scenario
        mark = " (default)" if name == DEFAULT_SCENARIO else ""
        out_console.print(
            f"[bold]{name}[/bold]{mark}: {s.title} / {s.title_zh} — {len(s.hubs)} hubs",
            highlight=False,
        )


@scenario_app.command("show")
def scenario_show(
    name_or_path: Annotated[
        str, typer.Argument(help="Built-in name or YAML file.")
    ] = DEFAULT_SCENARIO,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")] = False,
    data_dir: DataDirOpt = None,
) -> None:
    """Show a scenario: per hub PFLOPS by kind, racks, IT MW, energy assets, grid and carbon."""
    from greendispatch.report.summary import scenario_summary

    loaded, signals, _ = _load_with_signals(
        name_or_path, data_dir, quiet=as_json, name="NAME_OR_PATH"
    )
    _print_warnings(loaded)
    summary = scenario_summary(loaded.scenario, signals)
    if as_json:
        sys.stdout.write(json.dumps(summary, indent=2, ensure_ascii=False) + "\n")
        return
    from greendispatch.cli.render import print_summary

    print_summary(out_console, summary)


@scenario_app.command("validate")
def scenario_validate(
    path: Annotated[str, typer.Argument(help="Scenario YAML file (or built-in name).")],
    data_dir: DataDirOpt = None,
) -> None:
    """Check a scenario file and the data files it names; exit 2 with one message per problem."""
    from greendispatch.signals.build import build_signals

    loaded = load_scenario(nonempty(path, "PATH", SCENARIO_VALUE))
    build_signals(loaded, resolve_data_dir(data_dir))  # reads and checks every data file
    _print_warnings(loaded)
    s = loaded.scenario
    out_console.print(
        f"[green]ok[/green]: {loaded.source}: scenario '{s.name}' with {len(s.hubs)} hubs, "
        f"{_n(len(s.regions), 'demand region')}, {_n(s.time.days, 'day')} of {s.time.dt_h:g} h "
        "slots",
        highlight=False,
    )


def _print_warnings(loaded: LoadedScenario) -> None:
    """Print what is valid but likely a mistake, one ``warning: file:LINE: field: ...`` each."""
    for problem in scenario_warnings(loaded):
        err_console.print(
            f"[yellow]warning[/yellow]: {escape(str(problem))}", highlight=False, soft_wrap=True
        )


@scenario_app.command("turbines")
def scenario_turbines() -> None:
    """List the wind turbine types that assets.turbine_type may name.

    windpowerlib's oedb power curves; size and rating from the name (E-141/4200: 141 m, 4.2 MW)"""
    from greendispatch.scenario.hints import turbine_size
    from greendispatch.signals.wind import available_turbine_types

    for name in available_turbine_types():
        rotor, kw = turbine_size(name)
        rotor_text = f"{rotor:g} m" if rotor else "—"
        power_text = f"{kw / 1000:g} MW" if kw else "—"
        out_console.print(f"{name:<14} {rotor_text:>6} {power_text:>8}", highlight=False)


def _n(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


@scenario_app.command("export")
def scenario_export(
    name_or_path: Annotated[str, typer.Argument(help="Built-in name or YAML file.")],
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write to this file instead of stdout.")
    ] = None,
) -> None:
    """Write a scenario as YAML (a built-in keeps its comments and citations) to edit and reuse."""
    nonempty(name_or_path, "NAME_OR_PATH", SCENARIO_VALUE)
    if name_or_path in builtin_names():
        text = builtin_text(name_or_path)
    else:
        text = dump_scenario(load_scenario(name_or_path).scenario)
    if output is None:
        sys.stdout.write(text)
        return
    if output.exists() and output.is_dir():
        raise InputError(
            Problem("--output", None, "", f"{output} is a folder; expected a file name")
        )
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        reason = os_reason(exc)
        raise InputError(
            Problem("--output", None, "", f"cannot write {output} ({reason})")
        ) from None
    err_console.print(f"wrote {output}", markup=False, highlight=False)
