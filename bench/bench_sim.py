"""Benchmark: a year of dispatch under green-first with noisy forecasts.

Targets (issue #3): china-hubs, 1,000,000 jobs <= 60 s (stretch 20 s) and <= 4 GiB peak memory;
100,000 jobs <= 6 s. Also: how time grows with jobs (10k / 100k / 1M) and hubs (10 / 50 / 200).
Each case runs in its own process so peak memory (max RSS) is its own. Never fails on time.
Run: ``.venv/bin/python bench/bench_sim.py [--quick]``
"""

from __future__ import annotations

import dataclasses
import json
import resource
import subprocess
import sys
import time

from machine import machine_line


def scaled_scenario(n_hubs: int):
    """china-hubs with its 10 hubs repeated (ids suffixed, positions jittered) to n_hubs."""
    import numpy as np

    from greendispatch.scenario.loader import LoadedScenario, load_scenario

    base = load_scenario("china-hubs")
    s = base.scenario
    if n_hubs == len(s.hubs):
        return base
    rng = np.random.default_rng(0)
    hubs = []
    for i in range(n_hubs):
        h = s.hubs[i % len(s.hubs)]
        copy = i // len(s.hubs)
        hubs.append(
            dataclasses.replace(
                h,
                id=h.id if copy == 0 else f"{h.id}-{copy}",
                lat=h.lat + (rng.uniform(-1, 1) if copy else 0.0),
                lon=h.lon + (rng.uniform(-1, 1) if copy else 0.0),
            )
        )
    scen = dataclasses.replace(s, name=f"china-hubs-x{n_hubs}", hubs=tuple(hubs))
    return LoadedScenario(scen, f"<{scen.name}>", None, True, {})


def one_case(n_jobs: int, n_hubs: int, policy: str, forecast: str) -> dict:
    import numpy as np

    from greendispatch.dispatch.policies import make_policy
    from greendispatch.signals.build import build_signals
    from greendispatch.sim.engine import simulate
    from greendispatch.sim.metrics import run_metrics
    from greendispatch.sim.network import network_arrays
    from greendispatch.workload.generator import generate_jobs

    loaded = scaled_scenario(n_hubs)
    t0 = time.perf_counter()
    signals = build_signals(loaded)
    t1 = time.perf_counter()
    jobs = generate_jobs(loaded.scenario, n_jobs, np.random.default_rng(1))
    t2 = time.perf_counter()
    run = simulate(jobs, signals, network_arrays(loaded.scenario), make_policy(policy),
                   forecast=forecast, seed=1)  # fmt: skip
    t3 = time.perf_counter()
    m = run_metrics(run)
    t4 = time.perf_counter()
    return {
        "jobs": n_jobs,
        "hubs": n_hubs,
        "policy": policy,
        "forecast": forecast,
        "signals_s": t1 - t0,
        "generate_s": t2 - t1,
        "simulate_s": t3 - t2,
        "metrics_s": t4 - t3,
        "peak_rss_gib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20,
        "carbon_t": m["carbon_t"],
        "misses": m["deadline_misses"],
    }


CASES = [
    (10_000, 10),
    (100_000, 10),
    (1_000_000, 10),
    (100_000, 50),
    (100_000, 200),
]


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--case":
        n_jobs, n_hubs, policy, forecast = sys.argv[2:6]
        print(json.dumps(one_case(int(n_jobs), int(n_hubs), policy, forecast)))
        return
    quick = "--quick" in sys.argv
    print(machine_line())
    print("targets: 1M jobs <= 60 s (stretch 20 s), <= 4 GiB; 100k jobs <= 6 s (simulate_s)")
    cases = [c for c in CASES if not quick or c[0] <= 100_000]
    print(f"{'jobs':>9} {'hubs':>4}  {'simulate s':>10} {'generate s':>10} {'signals s':>9} "
          f"{'metrics s':>9} {'peak GiB':>8} {'misses':>7}")  # fmt: skip
    for n_jobs, n_hubs in cases:
        cmd = [sys.executable, __file__, "--case", str(n_jobs), str(n_hubs), "green-first",
               "noisy:0.1"]  # fmt: skip
        r = json.loads(subprocess.run(cmd, capture_output=True, text=True, check=True).stdout)
        print(f"{r['jobs']:>9,} {r['hubs']:>4}  {r['simulate_s']:>10.2f} {r['generate_s']:>10.2f} "
              f"{r['signals_s']:>9.2f} {r['metrics_s']:>9.2f} {r['peak_rss_gib']:>8.2f} "
              f"{r['misses']:>7,}", flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
