"""The oracle on the simulator's world: a bound no policy beats, a feasible rounded schedule,
clear messages for jobs no schedule can serve, and the results it adds."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from greendispatch.dispatch.policies import POLICIES, make_policy
from greendispatch.errors import InputError
from greendispatch.opt.oracle import rounding_policy, solve_oracle
from greendispatch.sim.engine import simulate
from greendispatch.sim.metrics import run_metrics
from tests.helpers import DATA_DIR, make_jobs, run_cli, small_scenario, write_yaml
from tests.sim.test_properties import check_run, roomy_jobs, world  # noqa: F401  (a fixture)


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(jobs=roomy_jobs(), mode=st.sampled_from(["exact", "grouped", "presence"]))
def test_bound_is_below_every_policy_and_rounding_is_feasible(world, jobs, mode) -> None:  # noqa: F811
    sig, net = world
    res = solve_oracle(jobs, sig, net, mode=mode)
    tol = 1e-6 * max(1.0, res.bound_t)
    for name in POLICIES:
        run = simulate(jobs, sig, net, make_policy(name), forecast="noisy:0.2", seed=5)
        m = run_metrics(run)
        assert m["deadline_misses"] == 0, name
        assert res.bound_t <= m["carbon_t"] + tol, name
    rounded = simulate(jobs, sig, net, rounding_policy(res, jobs, net.n_hubs, sig.grid.n_slots))
    check_run(rounded)  # the simulator's own checks: capacity, device-hours, windows, energy
    m = run_metrics(rounded)
    assert m["deadline_misses"] == 0
    assert res.bound_t <= m["carbon_t"] + tol


def test_jobs_no_schedule_can_serve_are_named(world) -> None:  # noqa: F811
    sig, net = world
    too_big = make_jobs(2, devices=np.array([1, 500]), pool=1, duration_h=2.0,
                        submit_h=0.0, deadline_h=10.0)  # fmt: skip
    with pytest.raises(InputError, match=r"job 1: fits no allowed hub \(500 ai devices"):
        solve_oracle(too_big, sig, net)
    late = make_jobs(1, pool=1, devices=1, duration_h=5.0, submit_h=69.5, deadline_h=74.5)
    with pytest.raises(InputError, match="job 0: impossible deadline"):
        solve_oracle(late, sig, net)


def test_capacity_conflicts_name_the_jobs(world) -> None:  # noqa: F811
    sig, net = world
    # Three jobs of 60 AI devices in the same two slots: 140 AI devices in all, so one is short.
    crowd = make_jobs(3, pool=1, devices=60, duration_h=2.0, submit_h=0.0, deadline_h=2.0)
    want = r"(?s)cannot all finish.*160 device-slots of ai work due by slot 2 \(jobs 0, 1, 2\)"
    with pytest.raises(InputError, match=want + ".* of west"):
        solve_oracle(crowd, sig, net)


def test_simulate_with_oracle_reports_bound_and_captured_shares(tmp_path, capsys, monkeypatch):
    path = write_yaml(tmp_path / "s.yaml", small_scenario())
    out = tmp_path / "out"
    code, stdout, err = run_cli(
        ["simulate", "-s", str(path), "--jobs", "40", "--policy", "green-first,mpc,oracle",
         "--out", str(out), "--no-tables"], capsys, monkeypatch,
    )  # fmt: skip
    assert code == 0, err
    doc = json.loads((out / "results.json").read_text())
    o = doc["oracle"]
    assert set(o) >= {"bound_t", "rounded_t", "build_s", "solve_s"}
    pols = doc["policies"]
    assert list(pols) == ["baseline", "green-first", "mpc", "oracle"]  # baseline added
    assert o["rounded_t"] == pols["oracle"]["carbon_t"]
    base = pols["baseline"]["carbon_t"]
    for m in pols.values():
        assert o["bound_t"] <= m["carbon_t"] + 1e-6
        want = (base - m["carbon_t"]) / (base - o["bound_t"])
        assert m["captured_share"] == pytest.approx(want)
        of_oracle = (base - m["carbon_t"]) / (base - o["rounded_t"])
        assert m["rounded_captured_share"] == pytest.approx(of_oracle)
    assert pols["baseline"]["captured_share"] == 0.0
    assert pols["baseline"]["rounded_captured_share"] == 0.0
    assert pols["oracle"]["rounded_captured_share"] == pytest.approx(1.0)
    assert pols["oracle"]["captured_share"] <= 1.0
    plan = doc["planning"]  # mpc's re-solves, and how many fell back to marginal carbon
    assert list(plan) == ["mpc"] and 0 < plan["mpc"]["cycles"] <= 40
    assert 0 <= plan["mpc"]["unsolved"] <= plan["mpc"]["cycles"]
    assert "captured" in stdout and "of oracle" in stdout and "LP lower bound" in stdout
    html = (out / "report.html").read_text()
    assert "captured_share" in html and "下界 bound" in html
    assert "相对取整调度的捕获率" in html and "rounded_captured_share" in html


def test_simulate_says_how_many_mpc_cycles_were_not_solved(tmp_path, capsys, monkeypatch):
    # One simplex iteration per cycle: only the LPs presolve alone solves are solved, and the run
    # says how many were not.
    from greendispatch.dispatch import policies
    from greendispatch.dispatch.mpc import MPC

    monkeypatch.setattr(policies, "_mpc", lambda w: MPC(w, iteration_limit=1))
    path = write_yaml(tmp_path / "s.yaml", small_scenario())
    out = tmp_path / "out"
    code, stdout, err = run_cli(
        ["simulate", "-s", str(path), "--jobs", "30", "--policy", "mpc", "--out", str(out),
         "--no-tables"], capsys, monkeypatch,
    )  # fmt: skip
    assert code == 0, err
    plan = json.loads((out / "results.json").read_text())["planning"]["mpc"]
    n, u = plan["cycles"], plan["unsolved"]
    assert 0 < u <= n and plan["iteration_limit"] == 1
    assert f"mpc: {u:,} of {n:,} cycles placed their jobs by marginal carbon" in stdout


def test_json_output_stays_clean_with_the_solver(tmp_path) -> None:
    # A fresh process: HiGHS prints a banner to the C-level stdout when first used.
    path = write_yaml(tmp_path / "s.yaml", small_scenario())
    code = "from greendispatch.cli.main import main; main()"
    args = ["simulate", "-s", str(path), "--jobs", "20", "--policy", "baseline,oracle", "--json"]
    done = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True,
                          env=os.environ | {"GREENDISPATCH_DATA": str(DATA_DIR)})  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["oracle"]["bound_t"] >= 0


def test_unservable_jobs_can_be_left_out_of_the_bound(world) -> None:  # noqa: F811
    sig, net = world
    jobs = make_jobs(2, pool=1, devices=1, duration_h=np.array([1.0, 5.0]),
                     submit_h=np.array([0.0, 69.5]), deadline_h=np.array([10.0, 74.5]))  # fmt: skip
    res = solve_oracle(jobs, sig, net, exclude_unservable=True)
    assert res.excluded.tolist() == [1]
    alone = solve_oracle(make_jobs(1, pool=1, devices=1, duration_h=1.0, deadline_h=10.0), sig, net)
    assert res.bound_t == pytest.approx(alone.bound_t)


def test_simulate_leaves_unservable_jobs_out_of_the_bound_with_a_note(tmp_path) -> None:
    from greendispatch.sim.runner import SimulationRequest, prepare, results_document, run_policies

    path = write_yaml(tmp_path / "s.yaml", small_scenario())
    req = SimulationRequest(scenario=str(path), policies="green-first,oracle", n_jobs=5)
    sim = prepare(req)
    sim.jobs = make_jobs(
        2,
        pool=1,
        devices=1,
        duration_h=np.array([1.0, 3.0]),
        submit_h=np.array([0.0, 22.5]),  # the second cannot finish before the day ends
        deadline_h=np.array([10.0, 25.5]),
    )
    run_policies(sim, req)
    doc = results_document(sim, req)
    assert any("1 job(s) no schedule can serve" in n and n.endswith(": 1") for n in doc["notes"])
    assert doc["oracle"]["bound_t"] <= doc["policies"]["green-first"]["carbon_t"] + 1e-9


def test_simulate_picks_the_oracle_lp(tmp_path, capsys, monkeypatch) -> None:
    path = write_yaml(tmp_path / "s.yaml", small_scenario())
    bounds = {}
    for lp in ("exact", "presence", "grouped"):
        out = tmp_path / lp
        code, _, err = run_cli(
            ["simulate", "-s", str(path), "--jobs", "30", "--policy", "baseline,oracle",
             "--oracle-lp", lp, "--out", str(out), "--no-tables"], capsys, monkeypatch,
        )  # fmt: skip
        assert code == 0, err
        doc = json.loads((out / "results.json").read_text())
        assert doc["oracle"]["lp"]["mode"] == lp
        for m in doc["policies"].values():
            assert doc["oracle"]["bound_t"] <= m["carbon_t"] + 1e-6
        bounds[lp] = doc["oracle"]["bound_t"]
    # the grouped LP relaxes the exact one (work may hop hubs); presence relaxes neither way
    # (pooled pauses, but no hub hopping and contiguous cores): each is a bound
    assert bounds["grouped"] <= bounds["exact"] + 1e-6
    code, _, err = run_cli(["simulate", "-s", str(path), "--oracle-lp", "milp"], capsys,
                           monkeypatch)  # fmt: skip
    assert code == 2 and "--oracle-lp: expected one of auto, exact, grouped, presence" in err


def test_presence_infeasibility_names_the_jobs(world) -> None:  # noqa: F811
    sig, net = world
    crowd = make_jobs(3, pool=1, devices=60, duration_h=2.0, submit_h=0.0, deadline_h=2.0)
    with pytest.raises(InputError, match=r"(?s)cannot all finish.*\(jobs 0, 1, 2\)"):
        solve_oracle(crowd, sig, net, mode="presence")


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(jobs=roomy_jobs(), seg=st.integers(6, 30), overlap=st.sampled_from([0, 2, 24]))
def test_presence_in_windows_stays_below_the_whole_horizon(world, jobs, seg, overlap) -> None:  # noqa: F811
    # overlap 0: segments whose bounds add up; else overlapping windows whose duals stitch
    sig, net = world
    whole = solve_oracle(jobs, sig, net, mode="presence")
    told: list[tuple[int, int]] = []
    parts = solve_oracle(jobs, sig, net, mode="presence", segment_slots=seg,
                         overlap_slots=overlap,
                         progress=lambda done, total: told.append((done, total)))  # fmt: skip
    n_seg = told[-1][1]
    assert told == [(k, n_seg) for k in range(1, n_seg + 1)]
    if overlap == 0 and 1.5 * seg < 72:  # 72 slots in segments of seg (a short last one joins)
        assert 72 // seg <= n_seg <= 72 // seg + 1
    elif 1.5 * seg >= 72:
        assert n_seg == 1
    else:  # windows of seg slots, kept parts seg - 2 x margin apart
        margin = min(overlap, (seg - 1) // 3)
        assert n_seg >= 72 // (seg - 2 * margin) - 1
    if overlap:  # stitched duals: a bound on the whole horizon's LP itself (weak duality)
        assert parts.bound_t <= whole.bound_t * (1 + 1e-6) + 1e-9
    # Segments are another relaxation of the engine's schedules, not of the whole LP: each is
    # a bound on every schedule, here the rounded one's.
    rounded = simulate(jobs, sig, net, rounding_policy(parts, jobs, net.n_hubs, sig.grid.n_slots))
    check_run(rounded)
    assert parts.bound_t <= run_metrics(rounded)["carbon_t"] + 1e-6
