"""Run a simulation request end to end: scenario, signals, jobs, policies, metrics, files."""

from __future__ import annotations

import dataclasses
import json
import os
import platform
import re
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from greendispatch.dispatch.policies import ORACLE, make_policy, policy_names
from greendispatch.errors import InputError
from greendispatch.scenario.loader import LoadedScenario, load_scenario
from greendispatch.signals.build import Signals, build_signals
from greendispatch.signals.forecast import make_forecaster
from greendispatch.sim.engine import Progress, SimRun, simulate
from greendispatch.sim.metrics import hub_slots_frame, jobs_frame, run_metrics
from greendispatch.sim.network import NetworkArrays, network_arrays
from greendispatch.workload.jobs import JobTable

MAX_DAYS = 3660  # as the scenario schema allows
# 10 million generated jobs take about 7 GiB here; more is a typo, not a workload.
MAX_JOBS = 10_000_000
MAX_SLACK_H = 8_784  # a leap year

TABLE_STEMS = ("jobs", "hub-slots")  # write_outputs writes STEM-POLICY.csv per policy run


def check_jobs(n_jobs: int | None) -> None:
    """InputError unless ``n_jobs`` generated jobs is a workload (1 .. MAX_JOBS)."""
    if not n_jobs or not 0 < n_jobs <= MAX_JOBS:
        raise InputError(f"--jobs must be between 1 and {MAX_JOBS:,} (got {n_jobs})")


@dataclass(frozen=True)
class SimulationRequest:
    """What ``greendispatch simulate`` was asked to do."""

    scenario: str = "china-hubs"
    policies: str = "all"
    days: int | None = None
    n_jobs: int | None = 10_000
    trace: Path | None = None
    trace_format: str | None = None
    forecast: str = "perfect"
    seed: int | None = None
    carbon_weight: float = 1.0
    utilisation: float = 0.5
    slack_h: float | None = None
    data_dir: Path | None = None
    out: Path | None = None
    write_tables: bool = True
    grid_charge: bool = False
    oracle_lp: str = "auto"  # the oracle's LP: auto, exact, grouped or presence
    oracle_rounding: str = "auto"  # its feasible schedule: auto, milp or heuristic
    trace_offset_h: float = 0.0  # subtracted from every trace arrival (h)
    trace_pool: str | None = None  # gaia: the pool its jobs need (None: auto)
    trace_any_device: bool = False  # alibaba: drop the GPU-type constraints
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class Simulation:
    """Inputs shared by every policy run, and the runs."""

    loaded: LoadedScenario
    signals: Signals
    net: NetworkArrays
    jobs: JobTable
    notes: list[str]
    seed: int
    runs: dict[str, SimRun] = field(default_factory=dict)
    oracle: Any = None  # greendispatch.opt.oracle.OracleResult when the oracle was asked for
    oracle_rounding: dict[str, Any] | None = None  # how its feasible schedule was made
    planning: dict[str, dict[str, Any]] = field(default_factory=dict)  # mpc's re-solves


def with_days(loaded: LoadedScenario, days: int | None) -> LoadedScenario:
    if days is None:
        return loaded
    if not 0 < days <= MAX_DAYS:
        raise InputError(f"--days must be in 1..{MAX_DAYS} (got {days})")
    s = loaded.scenario
    return dataclasses.replace(
        loaded, scenario=dataclasses.replace(s, time=dataclasses.replace(s.time, days=days))
    )


def prepare(req: SimulationRequest) -> Simulation:
    """Load the scenario, build its signals and the job set (generated or from a trace)."""
    policy_names(req.policies)  # fail early on a bad --policy or --forecast
    make_forecaster(req.forecast, np.zeros(1), seed=0, slots_per_day=24)
    loaded = with_days(load_scenario(req.scenario), req.days)
    signals = build_signals(loaded, req.data_dir)
    net = network_arrays(loaded.scenario)
    seed = loaded.scenario.seed if req.seed is None else req.seed
    if seed < 0:
        raise InputError(f"--seed must be >= 0 (got {seed})")
    rng = np.random.default_rng(seed)
    # Long gaps filled in a data file (e.g. a horizon beyond the data) are worth telling.
    notes: list[str] = [
        f"{m.hub_id}: {line}"
        for m in signals.meta
        for line in m.notes
        if (hit := re.search(r"(\d[\d,]*) grid hours without a value filled", line))
        and int(hit.group(1).replace(",", "")) > 24
    ]
    if req.trace is not None:
        from greendispatch.workload.traces import read_trace, trace_options

        if req.trace_format is None:
            raise InputError("--trace needs --trace-format alibaba|gaia|azure-llm")
        kw: dict[str, Any] = {}
        if req.slack_h is not None:
            if not 0 <= req.slack_h <= MAX_SLACK_H:
                raise InputError(
                    f"--slack-h must be between 0 and {MAX_SLACK_H:,} h (got {req.slack_h})"
                )
            kw["slack_h"] = req.slack_h
        kw |= trace_options(req.trace_format, offset_h=req.trace_offset_h, pool=req.trace_pool,
                            any_device=req.trace_any_device)  # fmt: skip
        trace = read_trace(req.trace, req.trace_format, loaded.scenario, rng, **kw)
        jobs = trace.jobs
        notes += list(trace.notes)
    else:
        from greendispatch.workload.generator import generate_jobs

        check_jobs(req.n_jobs)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            jobs = generate_jobs(
                loaded.scenario,
                req.n_jobs,
                rng,
                days=loaded.scenario.time.days,
                dt_h=loaded.scenario.time.dt_h,
                utilisation=req.utilisation,
            )
        notes += [str(w.message) for w in caught]
    return Simulation(loaded, signals, net, jobs, notes, seed)


def run_policies(
    sim: Simulation,
    req: SimulationRequest,
    progress: Callable[[str], Progress] | None = None,
) -> dict[str, SimRun]:
    """Simulate each asked policy. With ``oracle``: the LP bound is solved first, then its
    rounded schedule is simulated as the policy ``oracle``; ``baseline`` runs too (the
    captured shares are measured from it)."""
    names = policy_names(req.policies)
    if ORACLE in names and "baseline" not in names:
        names.insert(0, "baseline")
    order = list(names)
    if ORACLE in names:
        # The oracle first: what can refuse the run (an oversized MILP, jobs that cannot all
        # fit) does so before the other policies' work, not after it.
        names = [ORACLE, *(n for n in names if n != ORACLE)]
    if ORACLE in names and req.oracle_rounding == "milp":
        from greendispatch.opt.milp import check_milp_size

        grid = sim.signals.grid
        check_milp_size(sim.jobs, sim.net, grid.n_slots, grid.dt_h)
    for name in names:
        if name == ORACLE:
            from greendispatch.opt.milp import oracle_rounding
            from greendispatch.opt.oracle import solve_oracle

            lp_progress = progress(f"{name}: LP") if progress is not None else None
            if lp_progress is not None:
                lp_progress(0, 1)
            sim.oracle = solve_oracle(
                sim.jobs,
                sim.signals,
                sim.net,
                grid_charge=req.grid_charge,
                exclude_unservable=True,
                mode=req.oracle_lp,
                progress=lp_progress,
            )
            if len(sim.oracle.excluded):
                ids = ", ".join(str(i) for i in sim.oracle.excluded[:10].tolist())
                sim.notes.append(
                    f"oracle: {len(sim.oracle.excluded)} job(s) no schedule can serve (no "
                    f"allowed hub big enough, or a window too short) are outside the bound: {ids}"
                )
            policy, sim.oracle_rounding = oracle_rounding(
                sim.oracle, sim.jobs, sim.signals, sim.net, how=req.oracle_rounding,
                grid_charge=req.grid_charge,
                progress=(lambda: progress(f"{ORACLE}: MILP")) if progress is not None else None,
            )  # fmt: skip
            forecast = "perfect"  # the oracle has hindsight
        else:
            policy, forecast = make_policy(name, req.carbon_weight), req.forecast
        sim.runs[name] = simulate(
            sim.jobs,
            sim.signals,
            sim.net,
            policy,
            forecast=forecast,
            seed=sim.seed,
            grid_charge=req.grid_charge,
            progress=progress(name) if progress else None,
        )
        if hasattr(policy, "planning"):
            sim.planning[name] = policy.planning()
    runs = {name: sim.runs.pop(name) for name in order if name in sim.runs}
    sim.runs.update(runs)  # in the order asked for (earlier runs, if any, first)
    return sim.runs


def captured_shares(
    policies: dict[str, dict[str, Any]], bound_t: float, rounded_t: float | None = None
) -> None:
    """Add ``captured_share`` = (baseline - policy) / (baseline - bound) to each policy's
    metrics and, given the rounded schedule's carbon, ``rounded_captured_share`` = (baseline -
    policy) / (baseline - rounded): the share of what the best schedule built with perfect
    foresight saves (the bound is an LP relaxation no schedule reaches; above 1 when a policy
    beats that schedule). None when baseline is already there: there was nothing to capture."""
    base = policies["baseline"]["carbon_t"]
    for key, best in (("captured_share", bound_t), ("rounded_captured_share", rounded_t)):
        if best is None:
            continue
        room = base - best
        for m in policies.values():
            m[key] = (base - m["carbon_t"]) / room if room > 1e-9 else None


def results_document(sim: Simulation, req: SimulationRequest) -> dict[str, Any]:
    """The ``results.json`` document: ``{"scenario", "policies": {NAME: {metrics}}, ...}``."""
    s = sim.loaded.scenario
    policies = {name: run_metrics(run) for name, run in sim.runs.items()}
    doc: dict[str, Any] = {"scenario": s.name, "policies": policies}
    if sim.planning:  # mpc: its cycles, and those whose LP was not solved in time
        doc["planning"] = sim.planning
    if sim.oracle is not None:
        o = sim.oracle
        rounded = policies[ORACLE]["carbon_t"]
        captured_shares(policies, o.bound_t, rounded)
        doc["oracle"] = {
            "bound_t": o.bound_t,
            "rounded_t": rounded,
            "rounding_gap": (rounded - o.bound_t) / o.bound_t if o.bound_t > 0 else None,
            "build_s": o.build_s,
            "solve_s": o.solve_s,
            "lp": {
                "mode": o.mode,
                "block_slots": o.block,
                "groups": o.n_groups,
                "columns": o.n_cols,
                "rows": o.n_rows,
            },
            "rounding": sim.oracle_rounding or {"method": "heuristic"},
            "basis": "LP lower bound on location-based carbon with perfect foresight; "
            "rounded_t is the carbon of a feasible schedule rounded from it (or, on a small "
            "instance, the MILP's best integral schedule)",
        }
    return doc | {
        "config": {
            "days": s.time.days,
            "dt_h": s.time.dt_h,
            "jobs": len(sim.jobs),
            "trace": str(req.trace) if req.trace else None,
            "trace_format": req.trace_format,
            "trace_offset_h": req.trace_offset_h if req.trace else None,
            "trace_pool": req.trace_pool if req.trace else None,
            "trace_any_device": req.trace_any_device if req.trace else None,
            "forecast": req.forecast,
            "seed": sim.seed,
            "carbon_weight": req.carbon_weight,
            "grid_charge": req.grid_charge,
            "utilisation_target": None if req.trace else req.utilisation,
        },
        "carbon_basis": "location-based: grid imports x hourly direct grid intensity",
        "units": {
            "carbon_t": "t CO2",
            "energy_mwh": "MWh (facility)",
            "cost": f"{run_currency(sim)} (grid + contracted)",
            "wait_mean_h": "hours",
            "data_moved_tb": "TB",
            "runtime_s": "seconds of simulation (not counting file writing)",
        },
        "notes": sim.notes,
        "machine": f"{platform.system()} {platform.machine()}, Python {platform.python_version()}",
    }


def run_currency(sim: Simulation) -> str:
    """The scenario's one currency (the loader refuses a mix), as its signals carry it."""
    return sim.signals.meta[0].currency if sim.signals.meta else ""


CSV_DECIMALS = 9  # 1e-9 MWh = 1 mWh, 1e-9 t = 1 mg: rows balance to their last digit


def plain_decimals(values: np.ndarray, decimals: int = CSV_DECIMALS) -> np.ndarray:
    """Floats as text in fixed-point notation (never scientific, at any size), rounded to
    ``decimals`` places with trailing zeros dropped; NaN as an empty field."""
    text = np.char.mod(f"%.{decimals}f", values)
    text = np.char.rstrip(np.char.rstrip(text, "0"), ".")
    text[text == "-0"] = "0"
    text[np.isnan(values)] = ""
    return text


def write_table(frame: pd.DataFrame, path: Path) -> None:
    """Write ``frame`` to the CSV file ``path``, its float columns in :func:`plain_decimals`."""
    frame = frame.copy()
    for col in frame.columns[[dt.kind == "f" for dt in frame.dtypes]]:
        frame[col] = plain_decimals(frame[col].to_numpy(dtype=np.float64))
    frame.to_csv(path, index=False)


def write_outputs(sim: Simulation, req: SimulationRequest, doc: dict[str, Any]) -> list[Path]:
    """Write results.json, per-job and per-hub-slot CSV tables and report.html into req.out.

    All or nothing: every file is written under a temporary name first and only then renamed
    into place (results.json last), so an error, Ctrl-C or a full disk leaves an earlier run's
    outputs whole, not a mix of two runs, and no temporary file behind."""
    if req.out is None:
        return []
    out = req.out
    if out.exists() and not out.is_dir():
        raise InputError(f"--out {out} exists and is not a folder")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"--out {out}: cannot create the folder ({exc})") from None
    from greendispatch.report.html import render_report  # report sits above sim: import late

    staged: list[tuple[Path, Path]] = []  # (temporary, final)

    def stage(name: str) -> Path:
        staged.append((out / f".{name}.{os.getpid()}.tmp", out / name))
        return staged[-1][0]

    try:
        if req.write_tables:
            for name, run in sim.runs.items():
                for stem, make in zip(TABLE_STEMS, (jobs_frame, hub_slots_frame), strict=True):
                    write_table(make(run), stage(f"{stem}-{name}.csv"))
        stage("report.html").write_text(render_report(sim, doc), encoding="utf-8")
        doc["files"] = [final.name for _, final in staged] + ["results.json"]
        text = json.dumps(doc, indent=2, ensure_ascii=False)
        stage("results.json").write_text(text, encoding="utf-8")
        for tmp, final in staged:
            tmp.replace(final)
    finally:
        for tmp, _ in staged:
            tmp.unlink(missing_ok=True)
    return [final for _, final in staged]
