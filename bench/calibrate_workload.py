"""Fit the synthetic workload's tables to the real traces, once; prints the Python block to paste
between the "Fitted by" markers of ``src/greendispatch/workload/profiles.py``.

Sources (``../shared/data/traces``, read in place):
- training / finetune: GAIA ``pai_100k.csv`` (Alibaba PAI 2020 ML jobs, hours), split by
  :func:`greendispatch.workload.traces.classify_ai`; ``cpus`` -> devices.
- batch_inference: Alibaba GPU 2023 GPU-sharing pods (``num_gpu == 1``, ``gpu_milli < 1000``) that
  ran (Running / Succeeded, duration > 0), durations clipped at 72 h as in GAIA's files (pods
  still running at the trace's end are censored); size from all GPU pods' ``num_gpu``.
- batch_cpu: GAIA ``azure_100k.csv`` (Azure VMs, hours): ``length`` and ``cpus``.
- online_inference: size 8 devices (one serving replica; modelled), duration one slot.
- hpc: no public HPC trace is bundled: lognormal nodes (median 16, sigma 1.0, 1-512) and
  hours (median 4, sigma 1.0, 0.25-48), marked modelled.
- arrival hour of day: Alibaba GPU 2023 creation times, hour on the trace's own clock (the trace
  does not say its time zone; the generator takes it as the origin's local time).

Run: ``.venv/bin/python bench/calibrate_workload.py [DATA_DIR]``
"""

from __future__ import annotations

import os
import sys
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd

from greendispatch.workload.generator import DEFAULT_MIX, QUANTILES
from greendispatch.workload.jobs import JOB_KINDS, JobKind
from greendispatch.workload.traces import classify_ai

K = JobKind


def data_dir() -> Path:
    if len(sys.argv) > 1:
        return Path(sys.argv[1])
    env = os.environ.get("GREENDISPATCH_DATA")
    return Path(env) if env else Path(__file__).resolve().parents[2] / "shared" / "data"


def quantiles(x: np.ndarray) -> tuple[float, ...]:
    q = np.quantile(np.asarray(x, dtype=float), QUANTILES)
    return tuple(float(f"{v:.4g}") for v in q)


def modelled_lognormal(median: float, sigma: float, lo: float, hi: float) -> tuple[float, ...]:
    from statistics import NormalDist

    z = [NormalDist().inv_cdf(min(max(q, 1e-4), 1 - 1e-4)) for q in QUANTILES]
    return tuple(float(f"{np.clip(median * np.exp(sigma * v), lo, hi):.4g}") for v in z)


def main() -> None:
    root = data_dir() / "traces"
    pai = pd.read_csv(root / "gaia" / "pai_100k.csv")
    azure = pd.read_csv(root / "gaia" / "azure_100k.csv")
    ali = pd.read_csv(root / "alibaba-gpu-2023" / "openb_pod_list_default.csv")

    pai_kind = classify_ai(pai["cpus"].to_numpy(), pai["length"].to_numpy())
    train = pai_kind == JOB_KINDS.index(K.TRAINING)
    start = ali["scheduled_time"].fillna(ali["creation_time"])
    ali_h = (ali["deletion_time"] - start).to_numpy() / 3600.0
    ran = ali["pod_phase"].isin(["Running", "Succeeded"]).to_numpy() & (ali_h > 0)
    sharing = (ali["num_gpu"] == 1).to_numpy() & (ali["gpu_milli"] < 1000).to_numpy()
    gpu_pods = (ali["num_gpu"] > 0).to_numpy()

    size = {
        K.TRAINING: quantiles(pai["cpus"][train]),
        K.FINETUNE: quantiles(pai["cpus"][~train]),
        K.BATCH_INFERENCE: quantiles(ali["num_gpu"][gpu_pods]),
        K.ONLINE_INFERENCE: tuple(8.0 for _ in QUANTILES),
        K.HPC: modelled_lognormal(16.0, 1.0, 1.0, 512.0),
        K.BATCH_CPU: quantiles(azure["cpus"]),
    }
    dur = {
        K.TRAINING: quantiles(pai["length"][train]),
        K.FINETUNE: quantiles(pai["length"][~train]),
        K.BATCH_INFERENCE: quantiles(np.minimum(ali_h[ran & sharing], 72.0)),
        K.ONLINE_INFERENCE: tuple(1.0 for _ in QUANTILES),
        K.HPC: modelled_lognormal(4.0, 1.0, 0.25, 48.0),
        K.BATCH_CPU: quantiles(azure["length"]),
    }
    hod = np.bincount(((ali["creation_time"] % 86400) // 3600).astype(int), minlength=24)
    pmf = hod / hod.sum()

    print("# fmt: off")
    print(f"# training: {int(train.sum()):,} PAI jobs, finetune: {int((~train).sum()):,}; "
          f"batch_inference: {int((ran & sharing).sum()):,}\n# Alibaba sharing pods; batch_cpu: "
          f"{len(azure):,} Azure VMs; hour of day: {len(ali):,} Alibaba pods")  # fmt: skip
    for name, table in (("SIZE_Q", size), ("DURATION_H_Q", dur)):
        print(f"{name}: Mapping[JobKind, tuple[float, ...]] = MappingProxyType({{")
        for k, v in table.items():
            tag = "  # modelled" if k in (K.HPC, K.ONLINE_INFERENCE) else ""
            one = f"    K.{k.name}: ({', '.join(f'{x:g}' for x in v)}),{tag}"
            if len(one) <= 100:
                print(one)
                continue
            print(f"    K.{k.name}: ({tag}")
            print(textwrap.fill(", ".join(f"{x:g}" for x in v) + ",", 96, initial_indent=" " * 8,
                                subsequent_indent=" " * 8))  # fmt: skip
            print("    ),")
        print("})")
    print("ARRIVAL_HOUR_PMF: tuple[float, ...] = (")
    print(textwrap.fill(", ".join(f"{p:.4f}" for p in pmf) + ",", 96, initial_indent=" " * 4,
                        subsequent_indent=" " * 4))  # fmt: skip
    print(")")
    print("# fmt: on")

    # What the tables imply under DEFAULT_MIX: mean base device-hours per job and pool shares.
    u = np.linspace(0.0005, 0.9995, 1000)
    print("\n# mean base devices x hours per job (before utilisation scaling), DEFAULT_MIX shares")
    ai = {}
    for k in JOB_KINDS:
        d = np.exp(np.interp(u, QUANTILES, np.log(size[k])))
        t = np.exp(np.interp(u, QUANTILES, np.log(dur[k])))
        dh = float(d.mean() * t.mean())
        if k in (K.TRAINING, K.FINETUNE, K.BATCH_INFERENCE, K.ONLINE_INFERENCE):
            ai[k] = DEFAULT_MIX[k.value] * dh
        print(f"#   {k.value:17s} devices {d.mean():7.2f}  hours {t.mean():7.2f}  dev-h {dh:8.2f}")
    tot = sum(ai.values())
    print("# ai pool device-hour shares: "
          + ", ".join(f"{k.value} {v / tot:.0%}" for k, v in ai.items()))  # fmt: skip


if __name__ == "__main__":
    main()
