"""What each kind of job looks like: its pool kind, its default share of the mix, what it
tolerates (:class:`KindProfile`: slack, interruption, checkpoint, input data), the tenants that
submit it and their data residency, and the size, duration and arrival-hour tables that
``bench/calibrate_workload.py`` fitted once to the real traces (between the "Fitted by" markers);
:mod:`greendispatch.workload.generator` draws its synthetic jobs from these tables.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np

from greendispatch.domain import PoolKind
from greendispatch.workload.jobs import JobKind

K, P = JobKind, PoolKind
# fmt: off
KIND_POOL: Mapping[JobKind, PoolKind] = MappingProxyType({
    K.TRAINING: P.AI, K.FINETUNE: P.AI, K.BATCH_INFERENCE: P.AI, K.ONLINE_INFERENCE: P.AI,
    K.HPC: P.HPC, K.BATCH_CPU: P.GENERAL,
})
# Share of jobs (by count) per kind; normalised on use.
DEFAULT_MIX: Mapping[str, float] = MappingProxyType({
    "training": 0.10, "finetune": 0.15, "batch_inference": 0.15, "online_inference": 0.20,
    "hpc": 0.10, "batch_cpu": 0.30,
})
# fmt: on


@dataclass(frozen=True)
class KindProfile:
    """What a kind of job tolerates (all modelled): slack drawn uniformly in ``slack_h`` (h), the
    share that may be interrupted and its checkpoint overhead per resume (h, uniform), and its
    input data (GB, lognormal with this median and log-sigma)."""

    slack_h: tuple[float, float]
    interruptible_share: float
    checkpoint_h: tuple[float, float]
    data_gb_median: float
    data_gb_sigma: float


# fmt: off
PROFILES: Mapping[JobKind, KindProfile] = MappingProxyType({
    K.TRAINING: KindProfile((24.0, 72.0), 0.8, (0.10, 0.25), 500.0, 1.0),
    K.FINETUNE: KindProfile((6.0, 24.0), 0.6, (0.05, 0.15), 50.0, 1.0),
    K.BATCH_INFERENCE: KindProfile((6.0, 24.0), 0.9, (0.01, 0.05), 100.0, 1.0),
    K.ONLINE_INFERENCE: KindProfile((0.0, 0.0), 0.0, (0.0, 0.0), 0.0, 0.0),
    K.HPC: KindProfile((12.0, 48.0), 0.3, (0.10, 0.25), 200.0, 1.2),
    K.BATCH_CPU: KindProfile((6.0, 24.0), 0.7, (0.01, 0.05), 20.0, 1.2),
})
DATA_GB_MEDIAN: Mapping[JobKind, float] = MappingProxyType(
    {k: p.data_gb_median for k, p in PROFILES.items()})
# Tenants (Chinese-first: 人工智能实验室, 互联网平台, 科研院所, 银行, 政务, 制造) and the share of
# each kind's jobs that each submits (modelled; rows follow JOB_KINDS, columns TENANTS).
TENANTS: tuple[str, ...] = ("ai-lab", "internet", "institute", "bank", "government", "factory")
TENANT_PMF = np.array([
    [0.45, 0.35, 0.15, 0.03, 0.02, 0.00],  # training
    [0.25, 0.30, 0.10, 0.12, 0.08, 0.15],  # finetune
    [0.15, 0.45, 0.05, 0.12, 0.08, 0.15],  # batch_inference
    [0.10, 0.55, 0.00, 0.15, 0.10, 0.10],  # online_inference
    [0.05, 0.00, 0.60, 0.05, 0.10, 0.20],  # hpc
    [0.00, 0.35, 0.10, 0.20, 0.15, 0.20],  # batch_cpu
])
# fmt: on
# Data residency: share of a tenant's jobs restricted to the ``residency_hubs`` hubs nearest to
# their origin (modelled: financial data stays near the bank; half of government work).
RESTRICTED_SHARE: Mapping[str, float] = MappingProxyType({"bank": 1.0, "government": 0.5})

# ---- Fitted by bench/calibrate_workload.py on ../shared/data/traces (do not edit by hand). ----
# Size = base devices per job, duration in hours, at QUANTILES (log-linear in between); the
# arrival hour is on the Alibaba GPU 2023 trace's own clock, taken as the origin's local time.
QUANTILES = (0.0, 0.01, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99, 1.0)
# fmt: off
# training: 22,649 PAI jobs, finetune: 77,349; batch_inference: 1,412
# Alibaba sharing pods; batch_cpu: 99,988 Azure VMs; hour of day: 8,152 Alibaba pods
SIZE_Q: Mapping[JobKind, tuple[float, ...]] = MappingProxyType({
    K.TRAINING: (1, 1, 1, 1, 1, 1, 1, 5, 8, 10, 16, 25, 36, 75, 400),
    K.FINETUNE: (1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 3, 5, 7, 7),
    K.BATCH_INFERENCE: (1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 8),
    K.ONLINE_INFERENCE: (8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8),  # modelled
    K.HPC: (  # modelled
        1, 1.562, 3.089, 4.442, 6.896, 9.471, 12.42, 16, 20.61, 27.03, 37.12, 57.64, 82.88,
        163.8, 512,
    ),
    K.BATCH_CPU: (2, 2, 2, 2, 2, 2, 2, 2, 4, 4, 4, 8, 8, 24, 30),
})
DURATION_H_Q: Mapping[JobKind, tuple[float, ...]] = MappingProxyType({
    K.TRAINING: (
        0.08361, 0.09306, 0.15, 0.2622, 0.5507, 1.485, 4.121, 4.948, 6.01, 7.591, 10.36, 15.85,
        22.36, 42.62, 71.14,
    ),
    K.FINETUNE: (
        0.08361, 0.08556, 0.09528, 0.11, 0.1547, 0.2194, 0.3114, 0.4647, 0.723, 1.072, 1.567,
        2.362, 3.056, 3.765, 4,
    ),
    K.BATCH_INFERENCE: (
        0.004444, 0.01003, 0.0146, 0.02083, 0.04256, 0.105, 0.1664, 0.2775, 0.4348, 0.7825,
        1.565, 4.048, 8.474, 50.34, 72,
    ),
    K.ONLINE_INFERENCE: (1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1),  # modelled
    K.HPC: (  # modelled
        0.25, 0.3906, 0.7722, 1.11, 1.724, 2.368, 3.105, 4, 5.153, 6.758, 9.281, 14.41, 20.72,
        40.96, 48,
    ),
    K.BATCH_CPU: (
        0.1667, 0.1667, 0.1667, 0.1667, 0.25, 0.3333, 0.4167, 0.5833, 0.8333, 1.5, 3.583, 11.33,
        20, 50.33, 71.92,
    ),
})
ARRIVAL_HOUR_PMF: tuple[float, ...] = (
    0.0632, 0.0559, 0.0444, 0.0535, 0.0523, 0.0390, 0.0357, 0.0406, 0.0297, 0.0179, 0.0272,
    0.0250, 0.0186, 0.0183, 0.0168, 0.0332, 0.0369, 0.0521, 0.0675, 0.0572, 0.0432, 0.0527,
    0.0530, 0.0660,
)
# fmt: on
# ---- end of fitted tables ----

# Online inference demand by local hour (modelled interactive-service shape: night trough at
# ~04:00, working-day plateau, evening shoulder); relative, normalised to mean 1 on use.
ONLINE_DIURNAL: tuple[float, ...] = (
    0.55, 0.45, 0.38, 0.34, 0.33, 0.36, 0.48, 0.70, 0.95, 1.18, 1.32, 1.36,
    1.28, 1.30, 1.38, 1.40, 1.36, 1.28, 1.22, 1.25, 1.30, 1.22, 1.00, 0.75,
)  # fmt: skip
