"""Benchmark: green-power accounting of a year of china-hubs with 100,000 jobs.

Target (issue #5): issuing and matching (``account``) <= 30 s. Also prints the time to build the
ledger entries (one per hub-hour), their JSON size, and statement times. The simulation itself
is run first and not counted. Prints figures; never fails on time.
Run: ``.venv/bin/python bench/bench_ledger.py [--jobs N] [--days D] [--policy NAME]``
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import tempfile
import time
import warnings
from pathlib import Path

from greendispatch.ledger.accounting import account
from greendispatch.ledger.chain import LEDGER_FILE, LedgerWriter, verify_ledger
from greendispatch.ledger.statements import job_statement, tenant_statement
from greendispatch.sim.runner import SimulationRequest, prepare, run_policies
from machine import machine_line  # bench/ is on sys.path when a script here runs


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--jobs", type=int, default=100_000)
    ap.add_argument("--days", type=int, default=None, help="default: the scenario's 365")
    ap.add_argument("--policy", default="green-first")
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    print(machine_line())
    print(f"platform: {platform.platform()}, CPU count: {os.cpu_count()}")
    print("target: issue + match a year of china-hubs, 100,000 jobs <= 30 s (issue #5)")
    req = SimulationRequest(
        scenario="china-hubs", policies=args.policy, n_jobs=args.jobs, days=args.days
    )
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sim = prepare(req)
        run = run_policies(sim, req)[args.policy]
    n_h, n_t = run.it_mw.shape
    print(
        f"simulated {len(sim.jobs):,} jobs, {n_h} hubs x {n_t:,} slots ({args.policy}) "
        f"in {time.perf_counter() - t0:.1f} s (not counted)"
    )
    hubs = sim.loaded.scenario.hubs
    times = []
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        acct = account(run, scenario_name=sim.loaded.scenario.name, hubs=hubs)
        times.append(time.perf_counter() - t0)
    print(
        f"issue + match (account): median {statistics.median(times):.2f} s, "
        f"min {min(times):.2f} s over {args.repeats} runs; {len(acct.bundles):,} bundles, "
        f"{len(acct.claims):,} claims, {acct.gec.n_issued if acct.gec else 0:,} GECs"
    )
    t0 = time.perf_counter()
    prio = frozenset(sim.jobs.tenants[:2])
    account(run, scenario_name=sim.loaded.scenario.name, hubs=hubs, priority_tenants=prio)
    print(f"issue + match with priority tenants {sorted(prio)}: {time.perf_counter() - t0:.2f} s")

    # Streamed one at a time, as the chain writer consumes them (a list of all of them would
    # mostly time Python's garbage collector).
    t0 = time.perf_counter()
    n_entries = sum(1 for _ in acct.entries())
    t_build = time.perf_counter() - t0
    t0 = time.perf_counter()
    size = 0
    for e in acct.entries():
        size += len(
            json.dumps(e, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
        )
    t_json = time.perf_counter() - t0
    print(
        f"entries: {n_entries:,} streamed in {t_build:.2f} s; with canonical JSON "
        f"({size / 2**20:.1f} MiB) {t_json:.2f} s"
    )
    # The real thing: write the hash-chained ledger (and signed head), then verify it.
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        t0 = time.perf_counter()
        with LedgerWriter(folder) as writer:
            writer.append({"type": "genesis", "scenario": sim.loaded.scenario.name})
            writer.extend(acct.entries())
        t_write = time.perf_counter() - t0
        size_mib = (folder / LEDGER_FILE).stat().st_size / 2**20
        t0 = time.perf_counter()
        report = verify_ledger(folder)
        t_verify = time.perf_counter() - t0
        print(
            f"ledger write (hash chain + signed head): {t_write:.2f} s, {writer.seq + 1:,} "
            f"entries, {size_mib:.1f} MiB; verify: {t_verify:.2f} s (target <= 10 s), "
            f"ok={report.ok}"
        )
    for tenant in acct.tenants:
        t0 = time.perf_counter()
        st = tenant_statement(acct, tenant)
        print(
            f"tenant_statement({tenant!r}): {time.perf_counter() - t0:.2f} s, "
            f"{len(st['hours']):,} hour rows, {len(st['certificates']):,} claims"
        )
    placed = sim.jobs.job_id[run.placements.hub >= 0]
    picks = placed[:: max(1, len(placed) // 5)][:5]
    t0 = time.perf_counter()
    for job_id in picks:
        job_statement(acct, int(job_id))
    print(f"job_statement: {(time.perf_counter() - t0) / len(picks) * 1e3:.0f} ms per job")


if __name__ == "__main__":
    main()
