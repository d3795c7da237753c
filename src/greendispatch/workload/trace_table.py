"""Turn a trace reader's columns into a :class:`~greendispatch.workload.jobs.JobTable` that can
run in a scenario (:func:`_finish`, used by every reader of
:mod:`greendispatch.workload.traces`).

Arrivals are shifted by ``offset_h`` (subtracted from every submit time), then jobs that cannot
run in the scenario's slots are dropped and counted in the notes: zero duration, arriving before
the start or after the end, longer than the scenario, not finishing before the end, and, in the
engine's own terms (a job is released at the first slot boundary at or after its arrival and
runs ``ceil(duration_h / dt_h)`` whole slots), released after the last slot or with too few
slots left. A trace that leaves no job is refused, saying when its arrivals fall.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from greendispatch.domain import Scenario
from greendispatch.errors import DataFileError, InputError, ModelError
from greendispatch.workload.generator import DATA_GB_MEDIAN, demand_origins, pool_devices
from greendispatch.workload.jobs import ANY, JOB_KINDS, JobKind, JobTable, release_and_slots


@dataclass(frozen=True)
class TraceRead:
    """A trace turned into jobs: ``rows`` data rows read, ``dropped`` of them not turned into
    jobs (reasons in ``notes``, with the modelling assumptions applied)."""

    jobs: JobTable
    notes: tuple[str, ...]
    path: str
    fmt: str
    rows: int
    dropped: int


MAX_DEVICES = 1_000_000_000  # per job; JobTable stores devices as int32
MAX_OFFSET_H = 10_000_000.0  # > 1,100 years: beyond any trace's clock, within exact slot sums


def _drop_rules(
    cols: dict[str, np.ndarray], scenario: Scenario, offset_h: float
) -> list[tuple[np.ndarray, str, bool]]:
    """(mask, reason, timing) for every rule that keeps a job out of the scenario, in the order
    they are counted (a job is counted under the first rule it breaks); ``timing``: a rule that
    another offset or horizon could meet."""
    submit_h, duration_h = cols["submit_h"], cols["duration_h"]
    horizon, dt = scenario.time.days * 24.0, scenario.time.dt_h
    n_slots = round(horizon / dt)
    release, slots = release_and_slots(submit_h, duration_h, dt)
    last = (n_slots - 1) * dt
    return [
        (duration_h <= 0, "with zero duration", False),
        (
            submit_h < 0,
            f"arriving before the scenario's start (trace time {offset_h:g} h, --trace-offset-h)",
            True,
        ),
        (submit_h >= horizon, f"arriving after the scenario's end ({horizon:g} h)", True),
        (duration_h > horizon, f"longer than the scenario ({horizon:g} h)", True),
        (
            submit_h + duration_h > horizon,
            f"that cannot finish before the scenario's end ({horizon:g} h)",
            True,
        ),
        (
            release >= n_slots,
            f"arriving after the last slot began ({last:g} h): a job is released at the next "
            f"slot boundary, the scenario's end",
            True,
        ),
        (
            release + slots > n_slots,
            f"that cannot finish before the scenario's end in whole slots of {dt:g} h from the "
            f"slot boundary after their arrival",
            True,
        ),
        (
            pool_devices(scenario)[0][cols["pool"]] == 0,
            "needing a pool kind the scenario lacks",
            False,
        ),
    ]


def _no_jobs(
    scenario: Scenario, reasons: list[str], arrival_h: np.ndarray, offset_h: float
) -> tuple[str, int | None]:
    """Why a trace gives no job and, given its arrivals (trace time, h), when they fall and
    what would bring them into the scenario; with the row the message is about (None: the file
    as a whole), the first arrival out of range when no --trace-offset-h could bring them in."""
    msg = f"no job of the trace can run in the scenario's {scenario.time.days:g} day(s)"
    msg += f": {'; '.join(reasons)}" if reasons else ""
    if not arrival_h.size:
        return msg, None
    lo, hi = float(arrival_h.min()), float(arrival_h.max())
    span, start = f"day {lo / 24:.1f} to {hi / 24:.1f}", lo
    if arrival_h.size >= 100:  # a few stray arrivals aside
        start, end = (float(q) for q in np.quantile(arrival_h, [0.01, 0.99]))
        span += f"; 98 % of them from day {start / 24:.1f} to {end / 24:.1f}"
    if np.floor(start) > MAX_OFFSET_H:
        far = arrival_h > MAX_OFFSET_H
        row = int(np.flatnonzero(far)[np.argmin(arrival_h[far])])
        return (
            f"out of range: {arrival_h[row]:,.1f} h of trace time, more than the "
            f"{MAX_OFFSET_H:,.0f} h by which --trace-offset-h can move arrivals; {msg}",
            row,
        )
    advice = "more --days"
    if np.floor(start) != offset_h:
        shift = f"--trace-offset-h {np.floor(start):.0f}"
        advice = f"{shift} to move them to the scenario's start, or {advice}"
    when = f"{lo:,.1f} h and {hi:,.1f} h of trace time ({span})"
    return f"{msg}. Its arrivals fall between {when}: give {advice}", None


def _finish(
    path: str | Path,
    fmt: str,
    scenario: Scenario,
    rng: np.random.Generator,
    cols: dict[str, np.ndarray],
    notes: list[str],
    *,
    slack_h: float,
    tenant: str,
    data_gb: float | None,
    device_types: tuple[str, ...] = (),
    origin: np.ndarray | None = None,
    offset_h: float = 0.0,
    lines: np.ndarray | None = None,
    arrival_column: str = "",
) -> TraceRead:
    """Shift arrivals by ``offset_h``, drop what cannot run in the scenario, draw origins, add
    deadlines. ``cols`` holds submit_h (trace time), duration_h, devices, pool, kind and any
    other JobTable column but the ones set here (defaults: not interruptible, no latency limit,
    any device type, job_id = row). Raises DataFileError when no job is left, naming the line
    (``lines``: each row's) and ``arrival_column`` of an arrival that is out of range."""
    if not slack_h >= 0:
        raise InputError(f"slack_h must be >= 0 (got {slack_h})")
    if not np.isfinite(offset_h):
        raise InputError(f"offset_h must be a finite number of hours (got {offset_h})")
    arrival_h = cols["submit_h"]
    cols = cols | {"submit_h": arrival_h - offset_h}
    if offset_h:
        notes.append(f"arrivals shifted {-offset_h:+g} h (--trace-offset-h {offset_h:g})")
    n = len(arrival_h)
    keep = np.ones(n, dtype=bool)
    drops, timing = [], False
    for mask, why, timed in _drop_rules(cols, scenario, offset_h):
        if (hit := mask & keep).any():
            drops.append(f"dropped {int(hit.sum()):,} job(s) {why}")
            keep &= ~hit
            timing |= timed
    notes += drops
    dev = np.asarray(cols["devices"], dtype=np.float64)
    if ((dev > MAX_DEVICES) | (dev < 1)).any():  # each reader refuses these by line and column
        raise ModelError(f"a {fmt} reader passed a device count out of 1 to {MAX_DEVICES:,}")
    m = int(keep.sum())
    if m == 0:
        when = arrival_h if timing else arrival_h[:0]
        msg, row = _no_jobs(scenario, drops or notes, when, offset_h)
        if row is None or lines is None:
            raise DataFileError(path, msg)
        raise DataFileError(path, msg, line=int(lines[row]), column=arrival_column)
    org = demand_origins(scenario)
    defaults = {
        "job_id": np.flatnonzero(keep), "interruptible": np.zeros(m, dtype=bool),
        "checkpoint_h": np.zeros(m), "max_latency_ms": np.full(m, np.inf),
        "device_type": np.full(m, ANY),
    }  # fmt: skip
    c = defaults | {k: v[keep] for k, v in cols.items()}
    gb_by_kind = np.array([DATA_GB_MEDIAN[k] for k in JOB_KINDS])
    online = c["kind"] == JOB_KINDS.index(JobKind.ONLINE_INFERENCE)
    jobs = JobTable(
        **c,
        tenant=np.zeros(m, dtype=np.int32),
        deadline_h=c["submit_h"] + c["duration_h"] + np.where(online, 0.0, slack_h),
        data_gb=gb_by_kind[c["kind"]] if data_gb is None else np.full(m, float(data_gb)),
        origin=rng.choice(len(org.weights), size=m, p=org.weights)
        if origin is None
        else origin[keep],
        allowed_set=np.full(m, ANY),
        tenants=(tenant,),
        regions=org.ids,
        device_types=device_types,
    ).sorted_by_submit()
    return TraceRead(jobs, tuple(notes), str(path), fmt, n, n - m)
