"""Jobs as one struct-of-arrays table (a million jobs stay a handful of numpy arrays).

Times are hours since the scenario start (UTC). A job needs ``devices`` devices of pool kind
``pool`` for ``duration_h`` hours; it may start at ``submit_h`` and must finish by
``deadline_h``. Interruptible jobs may run in several pieces, paying ``checkpoint_h`` per resume.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from enum import StrEnum
from typing import ClassVar

import numpy as np

from greendispatch.domain import PoolKind
from greendispatch.errors import ModelError


class JobKind(StrEnum):
    TRAINING = "training"
    FINETUNE = "finetune"
    BATCH_INFERENCE = "batch_inference"
    ONLINE_INFERENCE = "online_inference"
    HPC = "hpc"
    BATCH_CPU = "batch_cpu"


JOB_KINDS: tuple[JobKind, ...] = tuple(JobKind)
POOL_KINDS: tuple[PoolKind, ...] = tuple(PoolKind)
ANY = -1  # code for "no constraint" in allowed_set and device_type
SLOT_EPS = 1e-9  # hours that differ by less than this (in slots) are the same slot boundary
_MAX_SLOTS = float(2**62)


def release_and_slots(
    submit_h: np.ndarray, duration_h: np.ndarray, dt_h: float
) -> tuple[np.ndarray, np.ndarray]:
    """Per job, in slots: its release (the first slot boundary at or after its submit time, 0 at
    the earliest) and its slots of work at full devices (at least 1). The one slot arithmetic
    that the engine's windows and the trace reader's checks share."""
    # Clipped below 2**62 so that absurd hours (1e300 in a trace, before it is refused) cast.
    release = np.clip(np.ceil(submit_h / dt_h - SLOT_EPS), 0, _MAX_SLOTS).astype(np.int64)
    d = np.clip(np.ceil(duration_h / dt_h - SLOT_EPS), 1, _MAX_SLOTS).astype(np.int64)
    return release, d


@dataclass(frozen=True, eq=False)
class JobTable:
    """Columns of equal length ``n``; categorical columns are integer codes into the tuples.

    - ``kind``: code into :data:`JOB_KINDS`; ``pool``: code into :data:`POOL_KINDS`
    - ``tenant``: code into ``tenants``; ``origin``: code into ``regions`` (demand region ids)
    - ``allowed_set``: code into ``allowed_sets`` (tuples of hub ids), or ANY (-1) for any hub
    - ``device_type``: code into ``device_types``, or ANY; an entry ``"A|B"`` means a pool whose
      device_model is A or B
    - ``max_latency_ms``: ``inf`` when the job has no latency limit
    """

    job_id: np.ndarray  # int64
    tenant: np.ndarray  # int32
    kind: np.ndarray  # int8
    pool: np.ndarray  # int8
    devices: np.ndarray  # int32
    duration_h: np.ndarray  # float64, at full devices
    submit_h: np.ndarray  # float64
    deadline_h: np.ndarray  # float64 (absolute)
    interruptible: np.ndarray  # bool
    checkpoint_h: np.ndarray  # float64, overhead per resume
    data_gb: np.ndarray  # float64
    origin: np.ndarray  # int16
    max_latency_ms: np.ndarray  # float64
    allowed_set: np.ndarray  # int16
    device_type: np.ndarray  # int16
    tenants: tuple[str, ...] = ("default",)
    regions: tuple[str, ...] = ()
    allowed_sets: tuple[tuple[str, ...], ...] = ()
    device_types: tuple[str, ...] = ()

    _DTYPES: ClassVar[dict[str, type]] = {
        "job_id": np.int64,
        "tenant": np.int32,
        "kind": np.int8,
        "pool": np.int8,
        "devices": np.int32,
        "duration_h": np.float64,
        "submit_h": np.float64,
        "deadline_h": np.float64,
        "interruptible": np.bool_,
        "checkpoint_h": np.float64,
        "data_gb": np.float64,
        "origin": np.int16,
        "max_latency_ms": np.float64,
        "allowed_set": np.int16,
        "device_type": np.int16,
    }

    def __post_init__(self) -> None:
        n = len(self.job_id)
        for name, dtype in self._DTYPES.items():
            arr = np.asarray(getattr(self, name), dtype=dtype)
            if arr.shape != (n,):
                raise ModelError(f"JobTable.{name} has shape {arr.shape}, expected ({n},)")
            object.__setattr__(self, name, arr)
        check_jobs(self)

    def __len__(self) -> int:
        return len(self.job_id)

    @classmethod
    def columns(cls) -> tuple[str, ...]:
        return tuple(cls._DTYPES)

    def take(self, index: np.ndarray) -> JobTable:
        """The jobs at ``index`` (integer positions or a boolean mask), same code tables."""
        cols = {name: getattr(self, name)[index] for name in self._DTYPES}
        meta = {f.name: getattr(self, f.name) for f in fields(self) if f.name not in self._DTYPES}
        return JobTable(**cols, **meta)

    def sorted_by_submit(self) -> JobTable:
        return self.take(np.argsort(self.submit_h, kind="stable"))

    @property
    def slack_h(self) -> np.ndarray:
        return self.deadline_h - self.submit_h - self.duration_h

    def device_hours(self) -> np.ndarray:
        return self.devices * self.duration_h


def check_jobs(jobs: JobTable) -> None:
    """Raise ModelError on impossible values (readers report bad input with file and line)."""
    problems = []
    if np.any(jobs.devices <= 0):
        problems.append("devices must be > 0")
    if np.any(~(jobs.duration_h > 0)):
        problems.append("duration_h must be > 0")
    if np.any(~np.isfinite(jobs.submit_h)) or np.any(jobs.submit_h < 0):
        problems.append("submit_h must be finite and >= 0")
    if np.any(jobs.deadline_h < jobs.submit_h + jobs.duration_h - 1e-9):
        problems.append("deadline_h must be >= submit_h + duration_h")
    if np.any(jobs.checkpoint_h < 0) or np.any(jobs.data_gb < 0):
        problems.append("checkpoint_h and data_gb must be >= 0")
    if len(jobs) and (jobs.kind.min() < 0 or jobs.kind.max() >= len(JOB_KINDS)):
        problems.append("kind code out of range")
    if len(jobs) and (jobs.pool.min() < 0 or jobs.pool.max() >= len(POOL_KINDS)):
        problems.append("pool code out of range")
    if len(jobs) and jobs.origin.size and jobs.regions and jobs.origin.max() >= len(jobs.regions):
        problems.append("origin code out of range")
    if problems:
        raise ModelError("invalid job table: " + "; ".join(problems))
