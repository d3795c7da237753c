"""``greendispatch`` command line. Input errors print messages and exit 2, never a traceback."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from greendispatch.errors import GreenDispatchError, ScenarioError
from greendispatch.scenario.dump import dump_scenario
from greendispatch.scenario.loader import (
    DEFAULT_SCENARIO,
    builtin_names,
    builtin_text,
    load_scenario,
    resolve_data_dir,
)

app = typer.Typer(
    help="greendispatch: dispatch compute work to where and when green power is, and prove it.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
scenario_app = typer.Typer(help="List, show, validate and export scenarios.", no_args_is_help=True)
app.add_typer(scenario_app, name="scenario")

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

    loaded, signals, _ = _load_with_signals(name_or_path, data_dir, quiet=as_json)
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

    loaded = load_scenario(path)
    build_signals(loaded, resolve_data_dir(data_dir))  # reads and checks every data file
    s = loaded.scenario
    out_console.print(
        f"[green]ok[/green]: {loaded.source}: scenario '{s.name}' with {len(s.hubs)} hubs, "
        f"{len(s.regions)} demand regions, {s.time.days} days of {s.time.dt_h:g} h slots",
        highlight=False,
    )


@scenario_app.command("export")
def scenario_export(
    name_or_path: Annotated[str, typer.Argument(help="Built-in name or YAML file.")],
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write to this file instead of stdout.")
    ] = None,
) -> None:
    """Write a scenario as YAML (a built-in keeps its comments and citations) to edit and reuse."""
    if name_or_path in builtin_names():
        text = builtin_text(name_or_path)
    else:
        text = dump_scenario(load_scenario(name_or_path).scenario)
    if output is None:
        sys.stdout.write(text)
        return
    if output.exists() and output.is_dir():
        raise ScenarioError(f"--output {output} is a folder; expected a file name")
    output.write_text(text, encoding="utf-8")
    err_console.print(f"wrote {output}")


@app.command("signals")
def signals_cmd(
    scenario: Annotated[str, typer.Option("--scenario", "-s")] = DEFAULT_SCENARIO,
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder.")] = Path("out"),
    data_dir: DataDirOpt = None,
) -> None:
    """Build a scenario's hourly signals and write them (CSV + provenance JSON) to --out."""
    from greendispatch.signals.io import write_signals

    loaded, signals, dt = _load_with_signals(scenario, data_dir)
    csv_path, meta_path = write_signals(signals, out, loaded.scenario.name)
    err_console.print(f"built signals in {dt:.2f} s; wrote {csv_path} and {meta_path}")


@app.command("demo")
def demo(
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder.")] = Path("out"),
    data_dir: DataDirOpt = None,
) -> None:
    """The main job on the default scenario: summary table and a year of signals in --out."""
    from greendispatch.cli.render import print_summary
    from greendispatch.report.summary import scenario_summary
    from greendispatch.signals.io import write_signals

    loaded, signals, dt = _load_with_signals(DEFAULT_SCENARIO, data_dir)
    summary = scenario_summary(loaded.scenario, signals)
    print_summary(out_console, summary)
    csv_path, meta_path = write_signals(signals, out, loaded.scenario.name)
    (out / f"{loaded.scenario.name}-summary.json").write_text(
        json.dumps(summary, indent=2, ensure_ascii=False), encoding="utf-8"
    )
    out_console.print(
        f"signals built in {dt:.2f} s; wrote {csv_path}, {meta_path} and the summary JSON",
        highlight=False,
    )


def main() -> None:
    """Console entry point: run the app, turning project errors into messages and exit codes."""
    try:
        app()
    except GreenDispatchError as exc:
        for line in str(exc).splitlines():
            err_console.print(f"[red]error[/red]: {line}", highlight=False, soft_wrap=True)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        err_console.print("interrupted")
        sys.exit(130)


if __name__ == "__main__":
    main()
