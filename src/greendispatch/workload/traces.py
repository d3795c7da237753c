"""Read real job traces into a :class:`~greendispatch.workload.jobs.JobTable`.

Formats (``read_trace(path, fmt, ...)``): ``alibaba`` (Alibaba GPU 2023, ``openb_pod_list_*.csv``),
``gaia`` (GAIA's ``arrival_time,length,cpus``), ``azure-llm`` (Azure LLM inference 2023,
``code.csv`` / ``conv.csv``). Every reader returns a :class:`TraceRead`: the jobs, and notes that
say what was dropped and which modelled assumptions were applied.

Trace time ``offset_h`` (0 unless given: ``--trace-offset-h``) is the scenario start. Jobs that
cannot run in the scenario's slots (arriving before its start or after its last slot began, not
finishing before its end, zero duration, a pool kind it lacks) are dropped and counted in the
notes, and a trace that leaves no job is refused, saying when its arrivals fall (the job table is
built in :mod:`greendispatch.workload.trace_table`). Origins are drawn from the demand regions by
weight with the given generator. Traces carry no data sizes: ``data_gb`` is the per-kind median of
:data:`~greendispatch.workload.profiles.PROFILES` unless given.

Bad files raise :class:`~greendispatch.errors.DataFileError` naming the file, the 1-based line
(header = line 1) and the column, before any job is built. The fast path is pandas' C parser;
only when it fails is the file re-read as text to find the first bad line (the CSV reading with
line numbers lives in :mod:`greendispatch.workload.checked_csv`).
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from greendispatch.domain import PoolKind, Scenario
from greendispatch.errors import DataFileError, InputError

# The checked CSV reading moved to checked_csv; the names marked F401 are imported only so that
# they stay importable from here.
from greendispatch.workload.checked_csv import (
    _NA,  # noqa: F401
    Col,
    _raise_first_non_number,  # noqa: F401
    _whole,
    check_rows,
    read_checked_csv,
)
from greendispatch.workload.generator import ONLINE_DIURNAL, demand_origins, stochastic_round
from greendispatch.workload.jobs import ANY, JOB_KINDS, POOL_KINDS, JobKind, JobTable
from greendispatch.workload.trace_table import (
    MAX_DEVICES,
    MAX_OFFSET_H,
    TraceRead,
    _finish,
)

AI, GENERAL = POOL_KINDS.index(PoolKind.AI), POOL_KINDS.index(PoolKind.GENERAL)
TRAINING_MIN_DEVICES = 8  # an accelerator job with >= 8 devices ...
TRAINING_MIN_H = 4.0  # ... or running >= 4 h is "training"; other accelerator jobs "finetune"
MAX_TOKENS = 100_000_000  # per request (ContextTokens, GeneratedTokens): beyond any model's context


def classify_ai(devices: np.ndarray, duration_h: np.ndarray) -> np.ndarray:
    """Kind codes for accelerator jobs: training if ``devices >= 8`` or ``duration_h >= 4``,
    else finetune (size/duration rule; the traces carry no job type)."""
    big = (np.asarray(devices) >= TRAINING_MIN_DEVICES) | (np.asarray(duration_h) >= TRAINING_MIN_H)
    return np.where(
        big, JOB_KINDS.index(JobKind.TRAINING), JOB_KINDS.index(JobKind.FINETUNE)
    ).astype(np.int8)


def read_alibaba_gpu(
    path: str | Path,
    scenario: Scenario,
    rng: np.random.Generator,
    *,
    slack_h: float = 24.0,
    device_constraints: bool = True,
    device_scale: float = 1.0,
    checkpoint_h: float = 0.1,
    data_gb: float | None = None,
    tenant: str = "alibaba",
    offset_h: float = 0.0,
) -> TraceRead:
    """Alibaba GPU 2023 pods (``openb_pod_list_*.csv``; times in seconds).

    A pod with ``num_gpu`` > 0 or ``gpu_milli`` > 0 needs max(num_gpu, 1) accelerators (``ai``;
    a GPU share counts as a whole device), kind by :func:`classify_ai`; a pod with no GPU needs
    ceil(cpu_milli/1000) cores of the ``general`` pool (``batch_cpu``). Submit = creation time;
    duration = deletion - scheduled time (- creation time if never scheduled). ``gpu_spec`` (e.g.
    ``V100M16|V100M32``, alternatives sorted and de-duplicated) becomes the device-type
    constraint unless ``device_constraints`` is false (``--trace-any-device``); a note says how
    many jobs need a type that no ``ai`` pool of the scenario has. Best-effort (``qos == BE``)
    pods are interruptible with ``checkpoint_h`` (h) per resume. ``slack_h`` (h) is added to
    every deadline; ``device_scale`` multiplies device counts (rounded up); ``offset_h`` (h) is
    subtracted from every creation time.
    """
    numbers = ("cpu_milli", "num_gpu", "gpu_milli", "creation_time", "deletion_time")
    optional = [Col("gpu_spec", "text"), Col("qos", "text"), Col("scheduled_time")]
    cols = [Col(c) for c in numbers] + [replace(c, required=False, blank_ok=True) for c in optional]
    df, lines = read_checked_csv(path, cols)
    for name in ("cpu_milli", "gpu_milli", "creation_time", "deletion_time"):
        x = df[name].to_numpy()
        check_rows(path, lines, x < 0, name, "must be >= 0", x)
    milli = df["gpu_milli"].to_numpy()  # thousandths of each GPU the pod holds
    check_rows(
        path, lines, milli > 1000, "gpu_milli", "must be at most 1000 (one whole GPU)", milli
    )
    n_gpu = df["num_gpu"].to_numpy()
    _whole(path, lines, n_gpu, "num_gpu", 0)
    most = f"must be at most {MAX_DEVICES:,} devices per job"
    check_rows(path, lines, n_gpu > MAX_DEVICES, "num_gpu", most, n_gpu)
    cpu_milli = df["cpu_milli"].to_numpy()
    most = f"must be at most {1000 * MAX_DEVICES:,} ({MAX_DEVICES:,} cores per job)"
    check_rows(path, lines, cpu_milli > 1000 * MAX_DEVICES, "cpu_milli", most, cpu_milli)
    created = df["creation_time"].to_numpy()
    sched = df["scheduled_time"].to_numpy() if "scheduled_time" in df else np.full(len(df), np.nan)
    start = np.where(np.isnan(sched), created, sched)
    dur_s = df["deletion_time"].to_numpy() - start
    check_rows(path, lines, dur_s < 0, "deletion_time", "negative duration (before start)", dur_s)
    gpu = (n_gpu > 0) | (df["gpu_milli"].to_numpy() > 0)
    need = np.where(gpu, np.maximum(n_gpu, 1), np.ceil(cpu_milli / 1000))
    from_col = np.where(gpu, "num_gpu", "cpu_milli")
    devices = _scaled_devices(path, lines, need, device_scale, from_col)
    duration_h = dur_s / 3600.0
    kind = np.where(gpu, classify_ai(devices, duration_h), JOB_KINDS.index(JobKind.BATCH_CPU))
    qos = df["qos"].to_numpy() if "qos" in df else np.full(len(df), None)
    be = qos == "BE"
    device_type = np.full(len(df), ANY)
    types: tuple[str, ...] = ()
    if device_constraints and "gpu_spec" in df:
        spec = df["gpu_spec"].fillna("").map(lambda s: "|".join(sorted(set(s.split("|")) - {""})))
        spec = spec.where(gpu, "")
        codes, uniq = pd.factorize(spec.where(spec != "", None), sort=True)
        device_type, types = codes, tuple(str(u) for u in uniq)
    notes = [
        f"{Path(path).name}: kinds by size/duration (training if >= {TRAINING_MIN_DEVICES} "
        f"devices or >= {TRAINING_MIN_H:g} h, else finetune; CPU-only pods batch_cpu); "
        f"best-effort pods interruptible"
    ]
    if not device_constraints:
        notes.append("GPU types (gpu_spec) ignored: any ai device serves (--trace-any-device)")
    job = {
        "submit_h": created / 3600.0,
        "duration_h": duration_h,
        "devices": devices,
        "pool": np.where(gpu, AI, GENERAL).astype(np.int8),
        "kind": kind,
        "interruptible": be,
        "checkpoint_h": np.where(be, checkpoint_h, 0.0),
        "device_type": device_type,
    }
    res = _finish(path, "alibaba", scenario, rng, job, notes, slack_h=slack_h, tenant=tenant,
                  data_gb=data_gb, device_types=types, offset_h=offset_h, lines=lines,
                  arrival_column="creation_time")  # fmt: skip
    return replace(res, notes=res.notes + _device_type_notes(res.jobs, scenario))


def _device_type_notes(jobs: JobTable, scenario: Scenario) -> tuple[str, ...]:
    """How many jobs require a GPU type, and how many of them no ``ai`` pool of the scenario
    has (they cannot be placed), with what a user can do about it."""
    if not jobs.device_types:
        return ()
    models = sorted({p.device_model for h in scenario.hubs for p in h.pools
                     if p.kind is PoolKind.AI and p.devices > 0})  # fmt: skip
    typed = jobs.device_type != ANY
    served = np.array([bool(set(t.split("|")) & set(models)) for t in jobs.device_types])
    lost = typed & ~served[np.where(typed, jobs.device_type, 0)]
    shown = ", ".join(jobs.device_types[:4]) + (", ..." if len(jobs.device_types) > 4 else "")
    note = f"{int(typed.sum()):,} job(s) require a GPU type ({shown})"
    if not lost.any():
        return (f"{note}; the scenario's ai pools have them",)
    return (
        f"{note}; {int(lost.sum()):,} of them need one that no ai pool of the scenario has "
        f"(its device models: {', '.join(models) or 'none'}) and cannot be placed: give "
        f"--trace-any-device to let any ai device serve them, or give an ai pool of the "
        f"scenario file one of these device_model names",
    )


def _scaled_devices(
    path: str | Path, lines: np.ndarray, need: np.ndarray, scale: float, column: Any
) -> np.ndarray:
    """ceil(``need`` x ``scale``) devices per job, at least 1; a row that would need more than
    :data:`MAX_DEVICES` is refused at its line, naming its ``column`` (one name, or one per row).
    """
    if not (np.isfinite(scale) and scale > 0):
        raise InputError(f"device_scale must be a number > 0 (got {scale})")
    scaled = np.ceil(need * scale)
    bad = np.flatnonzero(scaled > MAX_DEVICES)
    if bad.size:
        i = int(bad[0])
        raise DataFileError(
            path,
            f"needs {scaled[i]:g} devices with device_scale {scale:g}; expected at most "
            f"{MAX_DEVICES:,} per job",
            line=int(lines[i]),
            column=column if isinstance(column, str) else str(column[i]),
        )
    return np.maximum(scaled, 1).astype(np.int64)


def read_gaia(
    path: str | Path,
    scenario: Scenario,
    rng: np.random.Generator,
    *,
    slack_h: float = 24.0,
    time_unit: str = "auto",
    pool: str = "auto",
    device_scale: float = 1.0,
    interruptible: bool = False,
    checkpoint_h: float = 0.1,
    data_gb: float | None = None,
    tenant: str = "gaia",
    offset_h: float = 0.0,
) -> TraceRead:
    """GAIA's ``arrival_time,length,cpus`` files; ``cpus`` become devices.

    ``time_unit``: ``hours``, ``seconds`` or ``auto`` (seconds if the largest arrival exceeds
    8,784, the hours in a leap year, else hours): ``pai_1k.csv`` is in seconds, ``pai_100k.csv``
    and ``azure_100k.csv`` in hours. ``pool``: ``ai``, ``general``, ``hpc`` or ``auto`` = whichever
    of ``ai`` / ``general`` has more PFLOPS in the scenario (``ai`` in both built-ins, right for
    the PAI trace of ML jobs; pass ``general``, ``--trace-pool general``, for ``azure_100k.csv``,
    which holds VMs). Kinds: ai jobs by :func:`classify_ai`, general ``batch_cpu``, hpc ``hpc``.
    ``slack_h`` (h) is added to every deadline; ``device_scale`` multiplies device counts
    (rounded up); ``offset_h`` (h) is subtracted from every arrival.
    """
    units = {"hours": 1.0, "seconds": 1 / 3600.0}
    if time_unit not in (*units, "auto"):
        raise InputError(f"time_unit must be auto, hours or seconds (got '{time_unit}')")
    kinds = {"ai": PoolKind.AI, "general": PoolKind.GENERAL, "hpc": PoolKind.HPC}
    if pool not in (*kinds, "auto"):
        raise InputError(f"pool must be auto, ai, general or hpc (got '{pool}')")
    df, lines = read_checked_csv(path, [Col("arrival_time"), Col("length"), Col("cpus")])
    arrival, length, cpus = (df[c].to_numpy() for c in ("arrival_time", "length", "cpus"))
    check_rows(path, lines, arrival < 0, "arrival_time", "must be >= 0", arrival)
    check_rows(path, lines, length < 0, "length", "negative duration", length)
    _whole(path, lines, cpus, "cpus", 1)
    most = f"must be at most {MAX_DEVICES:,} devices per job"
    check_rows(path, lines, cpus > MAX_DEVICES, "cpus", most, cpus)
    if time_unit == "auto":
        time_unit = "seconds" if arrival.max() > 8784 else "hours"
    if pool == "auto":
        pf = {k: sum(p.pflops for h in scenario.hubs for p in h.pools if p.kind is k) for k in
              (PoolKind.AI, PoolKind.GENERAL)}  # fmt: skip
        pk = max(pf, key=lambda k: pf[k])
    else:
        pk = kinds[pool]
    f = units[time_unit]
    devices = _scaled_devices(path, lines, cpus, device_scale, "cpus")
    duration_h = length * f
    by_pool = {PoolKind.GENERAL: JobKind.BATCH_CPU, PoolKind.HPC: JobKind.HPC}
    if pk is PoolKind.AI:
        kind = classify_ai(devices, duration_h)
    else:
        kind = np.full(len(df), JOB_KINDS.index(by_pool[pk]), dtype=np.int8)
    notes = [f"{Path(path).name}: times in {time_unit}; cpus -> devices of the '{pk.value}' pool"]
    job = {
        "submit_h": arrival * f,
        "duration_h": duration_h,
        "devices": devices,
        "pool": np.full(len(df), POOL_KINDS.index(pk), dtype=np.int8),
        "kind": kind,
        "interruptible": np.full(len(df), interruptible),
        "checkpoint_h": np.full(len(df), checkpoint_h if interruptible else 0.0),
    }
    return _finish(path, "gaia", scenario, rng, job, notes, slack_h=slack_h, tenant=tenant,
                   data_gb=data_gb, offset_h=offset_h, lines=lines,
                   arrival_column="arrival_time")  # fmt: skip


def read_azure_llm(
    path: str | Path,
    scenario: Scenario,
    rng: np.random.Generator,
    *,
    prefill_tokens_per_gpu_s: float = 2000.0,
    decode_tokens_per_gpu_s: float = 250.0,
    serving_utilisation: float = 0.5,
    scale: float = 1.0,
    latency_ms: float = 30.0,
    window_h: float | None = None,
    slack_h: float = 0.0,
    tenant: str = "llm-service",
) -> TraceRead:
    """Azure LLM inference requests (``TIMESTAMP,ContextTokens,GeneratedTokens``, about one hour)
    turned into a year of hourly online-inference load per demand region.

    GPU-hours per hour = (context tokens / ``prefill_tokens_per_gpu_s`` + generated tokens /
    ``decode_tokens_per_gpu_s``) / 3600 / window / ``serving_utilisation`` x ``scale``. The
    defaults (modelled) are a 70B-class model served with batching on A100/H100-class GPUs:
    prompt processing ~2,000 tokens/s and generation ~250 tokens/s per GPU, provisioned at 50 %
    average use to meet latency. The window is the trace span (first to last request, at least
    one minute) unless ``window_h`` is given. That hourly load is the daily mean; it is split by
    region weight and shaped by :data:`~greendispatch.workload.profiles.ONLINE_DIURNAL` in each
    region's local time, for every hour of the scenario. Each (region, hour) becomes one
    ``online_inference`` job of one hour (devices rounded at random so the expectation is kept;
    zero-device hours dropped) with no slack and a one-way ``latency_ms`` limit (ms).
    ``slack_h`` is accepted for a uniform reader interface and ignored.
    """
    del slack_h
    rates = (prefill_tokens_per_gpu_s, decode_tokens_per_gpu_s, serving_utilisation, latency_ms)
    if not (min(rates) > 0 and scale >= 0 and np.isfinite([*rates, scale]).all()):
        raise InputError(
            "prefill/decode tokens per GPU-second, serving_utilisation and latency_ms must be "
            f"finite numbers > 0 and scale a finite number >= 0 (got {rates} and {scale})"
        )
    if window_h is not None and not (np.isfinite(window_h) and window_h > 0):
        raise InputError(f"window_h must be a number of hours > 0 (got {window_h})")
    cols = [Col("TIMESTAMP", "time"), Col("ContextTokens"), Col("GeneratedTokens")]
    df, lines = read_checked_csv(path, cols)
    ctx, gen = df["ContextTokens"].to_numpy(), df["GeneratedTokens"].to_numpy()
    for name, tokens in (("ContextTokens", ctx), ("GeneratedTokens", gen)):
        _whole(path, lines, tokens, name, 0)
        most = f"must be at most {MAX_TOKENS:,} tokens per request"
        check_rows(path, lines, tokens > MAX_TOKENS, name, most, tokens)
    span_h = (df["TIMESTAMP"].max() - df["TIMESTAMP"].min()).total_seconds() / 3600.0
    window = float(window_h) if window_h is not None else max(span_h, 1 / 60)
    gpu_s = ctx.sum() / prefill_tokens_per_gpu_s + gen.sum() / decode_tokens_per_gpu_s
    per_hour = gpu_s / 3600.0 / window / serving_utilisation * scale
    org = demand_origins(scenario)
    n_hours = int(scenario.time.days * 24)
    shape = np.asarray(ONLINE_DIURNAL) / np.mean(ONLINE_DIURNAL)
    hours = np.arange(n_hours, dtype=np.float64)
    local = np.floor(hours[None, :] + org.utc_offset_h[:, None]).astype(np.int64) % 24
    load = per_hour * org.weights[:, None] * shape[local]  # (regions, hours) GPU-hours
    if load.max(initial=0.0) >= MAX_DEVICES:
        raise DataFileError(
            path,
            f"the {len(df):,} requests over {window:.2f} h add up to {per_hour:,.0f} GPU-h per "
            f"hour on average (scale {scale:g}), so that one region-hour would need "
            f"{load.max():,.0f} devices; expected at most {MAX_DEVICES:,} per job",
        )
    devices = stochastic_round(load.ravel(), rng)
    keep = devices > 0
    n_r = len(org.weights)
    notes = [
        f"{Path(path).name}: {len(df):,} requests over {window:.2f} h -> {per_hour:.2f} GPU-h "
        f"per hour on average (prefill {prefill_tokens_per_gpu_s:g} and decode "
        f"{decode_tokens_per_gpu_s:g} tokens/s per GPU, {serving_utilisation:.0%} serving use, "
        f"scale {scale:g}), shaped by a modelled diurnal profile over {n_r} region(s)"
    ]
    if (~keep).any():
        notes.append(f"{int((~keep).sum()):,} region-hour(s) rounded to zero devices: no job")
    m = int(keep.sum())
    online = JOB_KINDS.index(JobKind.ONLINE_INFERENCE)
    job = {
        "submit_h": np.tile(hours, n_r)[keep],
        "duration_h": np.ones(m),
        "devices": devices[keep],
        "pool": np.full(m, AI, dtype=np.int8),
        "kind": np.full(m, online, dtype=np.int8),
        "max_latency_ms": np.full(m, float(latency_ms)),
        "job_id": np.arange(m, dtype=np.int64),
    }
    origin = np.repeat(np.arange(n_r), n_hours)[keep]
    res = _finish(path, "azure-llm", scenario, rng, job, notes, slack_h=0.0, tenant=tenant,
                  data_gb=0.0, origin=origin)  # fmt: skip
    return TraceRead(res.jobs, res.notes, res.path, res.fmt, len(df), 0)


READERS: dict[str, Callable[..., TraceRead]] = {
    "alibaba": read_alibaba_gpu,
    "gaia": read_gaia,
    "azure-llm": read_azure_llm,
}


TRACE_POOLS = ("auto", "general", "ai", "hpc")


def trace_options(
    fmt: str | None, *, offset_h: float = 0.0, pool: str | None = None, any_device: bool = False
) -> dict[str, Any]:
    """The reader keyword arguments for the command line's ``--trace-offset-h H`` (``offset_h``:
    alibaba and gaia), ``--trace-pool`` (``pool``: gaia) and ``--trace-any-device``
    (``device_constraints=False``: alibaba). InputError naming the flag for a bad value or a
    flag that does not apply to ``fmt``."""
    kw: dict[str, Any] = {}
    if offset_h:
        if not np.isfinite(offset_h) or abs(offset_h) > MAX_OFFSET_H:
            raise InputError(
                f"--trace-offset-h: expected a number of hours between -{MAX_OFFSET_H:,.0f} and "
                f"{MAX_OFFSET_H:,.0f} (got {offset_h})"
            )
        if fmt == "azure-llm":
            raise InputError(
                "--trace-offset-h applies to alibaba and gaia traces: azure-llm load is spread "
                "over every hour of the scenario, its request times set only its rate"
            )
        kw["offset_h"] = float(offset_h)
    if pool is not None:
        if pool not in TRACE_POOLS:
            raise InputError(
                f"--trace-pool: expected one of {'|'.join(TRACE_POOLS)} (got {pool!r})"
            )
        if fmt != "gaia":
            raise InputError(
                "--trace-pool applies to --trace-format gaia (alibaba pods need the ai or the "
                "general pool by their GPUs; azure-llm load is ai)"
            )
        kw["pool"] = pool
    if any_device:
        if fmt != "alibaba":
            raise InputError("--trace-any-device applies to --trace-format alibaba (its gpu_spec)")
        kw["device_constraints"] = False
    return kw


def read_trace(
    path: str | Path, fmt: str, scenario: Scenario, rng: np.random.Generator, **kw: Any
) -> TraceRead:
    """Read ``path`` in format ``fmt`` (a key of :data:`READERS`); ``kw`` go to the reader."""
    reader = READERS.get(fmt)
    if reader is None:
        close = difflib.get_close_matches(fmt, list(READERS), n=1)
        hint = f"; did you mean '{close[0]}'?" if close else ""
        raise InputError(f"unknown trace format '{fmt}' (valid: {', '.join(READERS)}){hint}")
    return reader(path, scenario, rng, **kw)
