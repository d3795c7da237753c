"""Running a simulation for ``simulate`` and ``demo``: prepare it, run every policy with a
progress bar on stderr, write the outputs, then print the results (tables, or results.json
with ``--json``)."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from contextlib import nullcontext
from pathlib import Path
from typing import TYPE_CHECKING

from rich.markup import escape

from greendispatch.cli.common import err_console, out_console
from greendispatch.cli.folders import earlier_outputs

if TYPE_CHECKING:
    from greendispatch.sim.runner import Simulation, SimulationRequest


def _status(message: str, quiet: bool):
    """A spinner on stderr, or nothing when the output is JSON."""
    return nullcontext() if quiet else err_console.status(message)


def _run_simulation(
    req: SimulationRequest,
    *,
    quiet: bool,
    before: Callable[[Simulation], None] | None = None,
    check: Callable[[Simulation], None] | None = None,
) -> Simulation:
    """Prepare, simulate every policy, write and print. ``check(sim)`` runs right after the jobs
    are made, before the long part; ``before(sim)`` prints what comes first."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from greendispatch.cli.render import print_results
    from greendispatch.sim.runner import prepare, results_document, run_policies, write_outputs

    with _status("loading scenario, signals and jobs...", quiet):
        sim = prepare(req)
    if check is not None:
        check(sim)
    if before is not None and not quiet:
        before(sim)
    if not quiet:
        for note in sim.notes:
            err_console.print(f"[yellow]note[/yellow]: {escape(note)}", highlight=False)
    if quiet:
        run_policies(sim, req)
    else:
        with Progress(
            TextColumn("[bold]{task.description:>14}"),
            BarColumn(),
            TextColumn("{task.percentage:>5.1f}%"),
            TimeElapsedColumn(),
            console=err_console,
        ) as bar:
            tasks = {}

            def factory(name: str):
                tasks[name] = bar.add_task(name, total=sim.signals.grid.n_slots)
                return lambda done, total: bar.update(tasks[name], completed=done, total=total)

            run_policies(sim, req, progress=factory)
    doc = results_document(sim, req)
    with _status("writing results...", quiet):
        written = write_outputs(sim, req, doc)
    if quiet:
        sys.stdout.write(json.dumps(doc, indent=2, ensure_ascii=False) + "\n")
    else:
        print_results(out_console, doc)
        if written:
            out_console.print(
                f"wrote {_what(written)} to {req.out}/", highlight=False, markup=False
            )
    if req.out is not None and (old := earlier_outputs(req.out, written)):
        err_console.print(
            f"[yellow]warning[/yellow]: {escape(str(req.out))}/ also holds {', '.join(old)} from "
            "an earlier run, left in place; this run's files are listed in results.json (files)",
            highlight=False,
            soft_wrap=True,
        )
    return sim


def _what(written: list[Path]) -> str:
    """The files a run wrote, in words: ``report.html and results.json``, or ``report.html,
    results.json and 4 CSV tables (jobs-NAME.csv, hub-slots-NAME.csv; NAME: baseline, mpc)``."""
    names = [p.name for p in written]
    tables = [n for n in names if n.endswith(".csv")]
    files = [n for n in names if n not in tables]
    if not tables:
        return " and ".join(filter(None, [", ".join(files[:-1]), files[-1]]))
    from greendispatch.sim.runner import TABLE_STEMS

    first = f"{TABLE_STEMS[0]}-"
    runs = [n.removeprefix(first).removesuffix(".csv") for n in tables if n.startswith(first)]
    kinds = ", ".join(f"{stem}-NAME.csv" for stem in TABLE_STEMS)
    return f"{', '.join(files)} and {len(tables)} CSV tables ({kinds}; NAME: {', '.join(runs)})"
