"""``greendispatch`` command line. Input errors print messages and exit 2, never a traceback.

The app and its ``signals``, ``simulate`` and ``demo`` commands are here; ``scenario`` is in
``scenario_cmd.py``, ``ledger`` in ``ledger_cmd.py``, the run behind ``simulate`` and ``demo`` in
``run.py``.
"""

from __future__ import annotations

import dataclasses
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from greendispatch.cli.common import (
    SCENARIO_VALUE,
    DataDirOpt,
    PlainFlagsGroup,
    _load_with_signals,
    err_console,
    nonempty,
    out_console,
)
from greendispatch.cli.folders import check_overlap, folder_arg, out_folder, removed_if_failed
from greendispatch.cli.ledger_cmd import ledger_app

# Names that moved out of this module are imported back, for code that imports them from here.
from greendispatch.cli.run import _run_simulation, _status  # noqa: F401
from greendispatch.cli.scenario_cmd import (  # noqa: F401
    _n,
    scenario_app,
    scenario_export,
    scenario_list,
    scenario_show,
    scenario_validate,
)
from greendispatch.errors import GreenDispatchError, InputError, Problem
from greendispatch.paths import os_reason, resolved
from greendispatch.scenario.loader import DEFAULT_SCENARIO, resolve_data_dir

if TYPE_CHECKING:
    from greendispatch.sim.runner import SimulationRequest

NO_FILE = "<input>"  # where a Problem that names no file says it is (greendispatch.errors)

app = typer.Typer(
    cls=PlainFlagsGroup,  # flags show as flags in --help, not as "<bool>"
    help="greendispatch: dispatch compute work to where and when green power is, and prove it.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(scenario_app, name="scenario")
app.add_typer(ledger_app, name="ledger")


@app.command("signals")
def signals_cmd(
    scenario: Annotated[str, typer.Option("--scenario", "-s")] = DEFAULT_SCENARIO,
    out: Annotated[str, typer.Option("--out", "-o", help="Output folder.")] = "out",
    data_dir: DataDirOpt = None,
) -> None:
    """Build a scenario's hourly signals and write them (CSV + provenance JSON) to --out."""
    from greendispatch.signals.io import write_signals

    out_dir = folder_arg(out, "--out")
    with removed_if_failed(out_folder(out_dir)):
        loaded, signals, dt = _load_with_signals(scenario, data_dir)
        csv_path, meta_path = write_signals(signals, out_dir, loaded.scenario.name)
    err_console.print(
        f"built signals in {dt:.2f} s; wrote {csv_path} and {meta_path}", markup=False
    )


TRACE_FORMATS = ("alibaba", "gaia", "azure-llm")
ORACLE_LPS = ("auto", "exact", "grouped", "presence")
ORACLE_ROUNDINGS = ("auto", "milp", "heuristic")  # greendispatch.opt.milp.ROUNDINGS


@app.command("simulate")
def simulate_cmd(
    scenario: Annotated[
        str, typer.Option("--scenario", "-s", help="Built-in name or YAML file.")
    ] = DEFAULT_SCENARIO,
    policy: Annotated[str, typer.Option("--policy", "-p", help="all or NAME[,NAME...].")] = "all",
    days: Annotated[
        int | None, typer.Option("--days", help="Days to simulate (default: the scenario's).")
    ] = None,
    jobs: Annotated[int | None, typer.Option("--jobs", help="Generate N synthetic jobs.")] = None,
    trace: Annotated[
        str | None, typer.Option("--trace", help="Read jobs from a trace file.")
    ] = None,
    trace_format: Annotated[
        str | None, typer.Option("--trace-format", help="alibaba|gaia|azure-llm")
    ] = None,
    forecast: Annotated[
        str, typer.Option("--forecast", help="perfect|noisy:SIGMA|persistence")
    ] = "perfect",
    seed: Annotated[
        int | None, typer.Option("--seed", help="Random seed (default: the scenario's).")
    ] = None,
    out: Annotated[str, typer.Option("--out", "-o", help="Output folder.")] = "out",
    as_json: Annotated[bool, typer.Option("--json", help="Print results.json to stdout.")] = False,
    carbon_weight: Annotated[
        float,
        typer.Option(
            "--carbon-weight",
            help="How green-first and mpc weigh carbon against cost: 1 = carbon only, 0 = cost "
            "only. Ignored by the other policies and by the oracle (its bound is on carbon).",
        ),
    ] = 1.0,
    utilisation: Annotated[
        float,
        typer.Option(
            "--utilisation",
            help="Target utilisation that generated jobs are scaled to (ignored with --trace: "
            "a trace's jobs are taken as they are).",
        ),
    ] = 0.5,
    slack_h: Annotated[
        float | None, typer.Option("--slack-h", help="Slack of trace jobs (h).")
    ] = None,
    trace_offset_h: Annotated[
        float | None,
        typer.Option(
            "--trace-offset-h",
            help="Hours subtracted from every trace arrival: trace time H becomes the "
            "scenario's start (alibaba, gaia).",
        ),
    ] = None,
    trace_pool: Annotated[
        str | None,
        typer.Option(
            "--trace-pool",
            help="gaia: the pool its jobs need, general|ai|hpc (default auto: ai or general, "
            "whichever has more PFLOPS; give general for azure_100k.csv, which holds VMs).",
        ),
    ] = None,
    trace_any_device: Annotated[
        bool,
        typer.Option(
            "--trace-any-device",
            help="alibaba: drop the pods' GPU types (gpu_spec), so any ai device serves them.",
        ),
    ] = False,
    no_tables: Annotated[
        bool, typer.Option("--no-tables", help="Skip the per-job and per-hub-slot CSV files.")
    ] = False,
    ledger: Annotated[
        str | None,
        typer.Option("--ledger", help="Write the green-power ledger and signed statements to DIR."),
    ] = None,
    ledger_policy: Annotated[
        str | None,
        typer.Option("--ledger-policy", help="Policy whose run the ledger records."),
    ] = None,
    priority_tenants: Annotated[
        str | None,
        typer.Option("--priority-tenants", help="Tenants with green contracts, matched first."),
    ] = None,
    grid_charge: Annotated[
        bool,
        typer.Option(
            "--grid-charge",
            help="Batteries also charge from the grid in clean hours (mpc and oracle where "
            "their plans find it pays; the other policies in each hub's cleanest quarter of "
            "hours, which can crowd out own surplus that comes later).",
        ),
    ] = False,
    oracle_lp: Annotated[
        str,
        typer.Option(
            "--oracle-lp",
            help="The oracle's LP: auto|exact|grouped|presence (see docs/optimisation.md).",
        ),
    ] = "auto",
    oracle_rounding: Annotated[
        str,
        typer.Option(
            "--oracle-rounding",
            help="The oracle's feasible schedule: auto (the MILP on small instances, else the "
            "rounding heuristic) | milp | heuristic.",
        ),
    ] = "auto",
    data_dir: DataDirOpt = None,
) -> None:
    """Simulate a year (or --days) of dispatch under one or more policies and compare them."""
    from greendispatch.sim.runner import SimulationRequest, check_jobs
    from greendispatch.workload.traces import trace_options

    nonempty(scenario, "--scenario", SCENARIO_VALUE)
    trace_path = None if trace is None else Path(nonempty(trace, "--trace", "a trace file (CSV)"))
    out_dir = folder_arg(out, "--out")
    ledger_dir = folder_arg(ledger, "--ledger") if ledger is not None else None
    if ledger_dir is not None:
        check_overlap(out_dir, ledger_dir)
    if trace is not None and jobs is not None:
        raise InputError("give either --jobs N or --trace PATH, not both")
    if trace is None and trace_format is not None:
        raise InputError("--trace-format applies to --trace PATH; no trace was given")
    if trace is None and slack_h is not None:
        raise InputError("--slack-h applies to --trace jobs; generated jobs draw their slack")
    trace_flags = {
        "--trace-offset-h": trace_offset_h is not None,
        "--trace-pool": trace_pool is not None,
        "--trace-any-device": trace_any_device,
    }
    if trace is None and (given := [flag for flag, on in trace_flags.items() if on]):
        raise InputError(f"{given[0]} applies to --trace PATH; no trace was given")
    if jobs is not None:
        check_jobs(jobs)
    if seed is not None and seed < 0:
        raise InputError(f"--seed must be >= 0 (got {seed})")
    if ledger is None and (priority_tenants is not None or ledger_policy is not None):
        flag = "--priority-tenants" if priority_tenants is not None else "--ledger-policy"
        raise InputError(f"{flag} applies to --ledger DIR; no ledger was asked for")
    if trace_format is not None and trace_format not in TRACE_FORMATS:
        raise InputError(
            f"--trace-format: expected one of {', '.join(TRACE_FORMATS)} (got {trace_format!r})"
        )
    if not 0.0 <= carbon_weight <= 1.0:
        raise InputError(f"--carbon-weight must be in [0, 1] (got {carbon_weight})")
    if not 0.0 < utilisation <= 1.0:
        raise InputError(f"--utilisation must be in (0, 1] (got {utilisation})")
    _check_forecast(forecast)
    if trace_format is not None:
        trace_options(trace_format, offset_h=trace_offset_h or 0.0, pool=trace_pool,
                      any_device=trace_any_device)  # fmt: skip
    if oracle_lp not in ORACLE_LPS:
        choices = ", ".join(ORACLE_LPS)
        raise InputError(f"--oracle-lp: expected one of {choices} (got {oracle_lp!r})")
    if oracle_rounding not in ORACLE_ROUNDINGS:
        choices = ", ".join(ORACLE_ROUNDINGS)
        raise InputError(f"--oracle-rounding: expected one of {choices} (got {oracle_rounding!r})")
    req = SimulationRequest(
        scenario=scenario,
        policies=policy,
        days=days,
        n_jobs=jobs if trace is None else None,
        trace=trace_path,
        trace_format=trace_format,
        forecast=forecast,
        seed=seed,
        carbon_weight=carbon_weight,
        utilisation=utilisation,
        slack_h=slack_h,
        data_dir=resolve_data_dir(data_dir),
        out=out_dir,
        write_tables=not no_tables,
        grid_charge=grid_charge,
        oracle_lp=oracle_lp,
        oracle_rounding=oracle_rounding,
        trace_offset_h=trace_offset_h or 0.0,
        trace_pool=trace_pool,
        trace_any_device=trace_any_device,
    )
    _note_ignored(req)
    if req.n_jobs is None and req.trace is None:
        req = dataclasses.replace(req, n_jobs=10_000)
    if ledger_policy is not None:
        from greendispatch.dispatch.policies import policy_names

        if ledger_policy not in policy_names(policy):
            raise InputError(f"--ledger-policy '{ledger_policy}' is not among --policy {policy}")
    priority = frozenset(t.strip() for t in (priority_tenants or "").split(",") if t.strip())
    made = out_folder(out_dir)  # before a long run, not after it
    with removed_if_failed(made):  # made grows below: the ledger's folders are removed too
        if ledger_dir is None:
            _run_simulation(req, quiet=as_json)
            return
        from greendispatch.ledger.record import (
            check_new_ledger_folder,
            check_priority_tenants,
            record_run,
        )

        made += check_new_ledger_folder(ledger_dir)
        ledger_dir = resolved(ledger_dir)  # as checked: "typo/../keep" is keep
        sim = _run_simulation(
            req, quiet=as_json, check=lambda s: check_priority_tenants(s.jobs, priority)
        )

        with err_console.status("issuing certificates, matching, writing the ledger..."):
            rec = record_run(sim, req, ledger_dir, policy=ledger_policy, priority_tenants=priority)
    err_console.print(
        f"ledger: {rec['entries']:,} entries for policy {rec['policy']} in {ledger_dir}/ "
        f"(head {rec['head'][:16]}...); {len(rec['statements'])} signed tenant statements "
        f"in {ledger_dir}/statements/",
        highlight=False,
        markup=False,
    )


def _check_forecast(spec: str) -> None:
    """A bad --forecast is refused before any work, naming the flag."""
    import numpy as np

    from greendispatch.signals.forecast import make_forecaster

    try:
        make_forecaster(spec, np.zeros(1), seed=0, slots_per_day=24)
    except InputError as exc:
        raise InputError(
            [Problem("--forecast", None, "", p.message) for p in exc.problems]
        ) from None


def _note_ignored(req: SimulationRequest) -> None:
    """Say so when a flag given a value other than its default has no effect on this run."""
    from greendispatch.dispatch.policies import policy_names
    from greendispatch.sim.runner import SimulationRequest as Default

    ignored = []
    weighing = {"green-first", "mpc"} & set(policy_names(req.policies))
    if req.carbon_weight != Default.carbon_weight and not weighing:
        ignored.append("--carbon-weight applies only to green-first and mpc")
    if req.trace is not None and req.utilisation != Default.utilisation:
        ignored.append("--utilisation scales generated jobs, not a trace's")
    for why in ignored:
        err_console.print(f"[yellow]note[/yellow]: {why}: ignored", highlight=False)


@app.command("demo")
def demo(
    out: Annotated[str, typer.Option("--out", "-o", help="Output folder.")] = "out",
    jobs: Annotated[int, typer.Option("--jobs", help="Synthetic jobs to dispatch.")] = 20_000,
    data_dir: DataDirOpt = None,
) -> None:
    """The main job: a year of china-hubs under every policy; table printed, report written."""
    from greendispatch.cli.render import print_summary
    from greendispatch.report.summary import scenario_summary
    from greendispatch.sim.runner import SimulationRequest

    out_dir = folder_arg(out, "--out")
    data_folder = resolve_data_dir(data_dir)
    made = out_folder(out_dir)
    req = SimulationRequest(
        scenario=DEFAULT_SCENARIO,
        policies="all",
        n_jobs=jobs,
        forecast="noisy:0.1",
        data_dir=data_folder,
        out=out_dir,
    )
    with removed_if_failed(made):
        _run_simulation(
            req,
            quiet=False,
            before=lambda s: print_summary(
                out_console, scenario_summary(s.loaded.scenario, s.signals)
            ),
        )


class Terminated(BaseException):
    """SIGTERM, raised where the program is, so that the clean-up of a failed command runs (a
    half-written output or ledger is not left behind), as for Ctrl-C."""


def _terminate(signum: int, frame: object) -> None:
    raise Terminated


def main() -> None:
    """Console entry point: run the app, turning project errors into messages and exit codes."""
    signal.signal(signal.SIGTERM, _terminate)
    try:
        app()
    except SystemExit as exc:
        if exc.code == 130:  # typer turns Ctrl-C into a silent exit 130
            err_console.print("interrupted")
        raise
    except Terminated:
        err_console.print("terminated")
        sys.exit(143)
    except GreenDispatchError as exc:
        for line in str(exc).splitlines():  # a flag check names the flag, not "<input>"
            line = line.removeprefix(f"{NO_FILE}: ")
            err_console.print(f"[red]error[/red]: {escape(line)}", highlight=False, soft_wrap=True)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        err_console.print("interrupted")
        sys.exit(130)
    except OSError as exc:  # a path the checks above could not foresee (a disk that filled...)
        where = f": {exc.filename}" if exc.filename else ""
        err_console.print(
            f"[red]error[/red]: {escape(f'{os_reason(exc)}{where}')}", highlight=False
        )
        sys.exit(2)
    except MemoryError:
        err_console.print("[red]error[/red]: out of memory: fewer jobs, days or hubs")
        sys.exit(1)


if __name__ == "__main__":
    main()
