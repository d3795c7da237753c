"""The oracle's MILP: toys worked out by hand, and on the simulator's world a schedule the
engine accepts as it is, between the LP bound and the rounding heuristic."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings

from greendispatch.opt.classes import work_groups
from greendispatch.opt.milp import MilpPolicy, solve_milp, solve_milp_slots
from greendispatch.opt.model import build, extract
from greendispatch.opt.oracle import rounding_policy, solve_oracle
from greendispatch.sim.engine import simulate
from greendispatch.sim.metrics import run_metrics
from tests.helpers import run_cli, small_scenario, write_yaml
from tests.opt.test_lp import energy, jobs
from tests.opt.test_oracle import roomy_jobs
from tests.sim.test_properties import check_run, world  # noqa: F401  (a fixture)


def lp_bound(js, e) -> float:
    model = build(work_groups(js, e.shape[1], "exact"), e)
    sol = model.lp.solve()
    assert sol.optimal
    return extract(model, sol, e).carbon_t


def one_job(end: int, d: int, interruptible: bool):
    js = jobs([0], [end], [d], [1], 1)
    return dataclasses.replace(js, interruptible=np.array([interruptible]))


def test_a_job_in_one_piece_takes_the_cheapest_run_not_the_cheapest_slots() -> None:
    # 1 MW for 2 slots out of 4 at 0, 500, 500, 0 g/kWh. The LP runs slots 0 and 3: 0 t. In
    # one piece the job runs 0-1 or 2-3: 1 MWh at 500 kg/MWh = 0.5 t.
    e = energy([[0, 500, 500, 0]])
    js = one_job(4, 2, interruptible=False)
    assert lp_bound(js, e) == pytest.approx(0.0, abs=1e-9)
    m = solve_milp_slots(js, e, np.zeros(1))
    assert m is not None and m.optimal
    assert m.carbon_t == pytest.approx(0.5)
    assert len(m.slots[0]) == 2 and np.ptp(m.slots[0]) == 1


def test_a_known_schedule_is_the_first_incumbent() -> None:
    # Stopped at once, the MILP has only the schedule it was given (slots 1-2: 1 MWh at 500 and
    # 1 MWh at 500 kg/MWh = 1.0 t); without one it has none.
    e = energy([[0, 500, 500, 0]])
    js = one_job(4, 2, interruptible=False)
    assert solve_milp_slots(js, e, np.zeros(1), time_limit_s=0.0) is None
    m = solve_milp_slots(js, e, np.zeros(1), time_limit_s=0.0, known={0: (0, np.array([1, 2]))})
    assert m is not None and not m.optimal
    assert m.carbon_t == pytest.approx(1.0)
    assert m.slots[0].tolist() == [1, 2]
    # Given time, it improves on it: 0.5 t.
    m = solve_milp_slots(js, e, np.zeros(1), known={0: (0, np.array([1, 2]))})
    assert m is not None and m.optimal and m.carbon_t == pytest.approx(0.5)


@pytest.mark.parametrize(
    ("checkpoint", "carbon", "slots"), [(0.5, 0.0, [0, 1, 4, 6]), (0.6, 0.54, [0, 1, 4, 5])]
)
def test_the_resume_overhead_decides_whether_a_job_splits(checkpoint, carbon, slots) -> None:
    # 3 slots of work in 7 at 0, 0, 900, 900, 0, 900, 0 g/kWh (1 MW). In one piece every run
    # of 3 holds a 900: 0.9 t. In three pieces (0-1, 4, 6) the work needs
    # 3 + ceil(2 x checkpoint) slots: with 0.5 h that is 4, all clean (0 t). With 0.6 h it is
    # 5, one of them at 900 and worked whole: 0.9 t. In two pieces, 0-1 and 4-5, 4 slots hold
    # the 3.6 h of work and resume, and the devices work only 0.6 h of the last (900 g/kWh),
    # standing idle the rest: 0.54 t, the least.
    e = energy([[0, 0, 900, 900, 0, 900, 0]])
    js = one_job(7, 3, interruptible=True)
    m = solve_milp_slots(js, e, np.array([checkpoint]))
    assert m is not None and m.optimal
    assert m.carbon_t == pytest.approx(carbon, abs=1e-9)
    if slots is not None:
        assert m.slots[0].tolist() == slots
    assert lp_bound(js, e) == pytest.approx(0.0, abs=1e-9)


@pytest.mark.parametrize(("checkpoint", "n_slots"), [(0.5, 3), (0.5005, 4)])
def test_a_split_keeps_its_piece_count_when_the_overhead_is_just_over_the_spare(
    checkpoint, n_slots
) -> None:
    # 2.5 slots of work (3 booked, half of the last spare) in 7 at 0, 0, 900, 900, 0, 0, 900.
    # A 0.5 h resume fits in the spare half: 3 slots, 2 pieces. At 0.5005 h it needs a 4th slot,
    # and two clean pieces still hold it (the MILP's margin on whole slots once cut this count).
    e = energy([[0, 0, 900, 900, 0, 0, 900]])
    js = dataclasses.replace(one_job(7, 3, interruptible=True), work_slots=np.array([2.5]))
    m = solve_milp_slots(js, e, np.array([checkpoint]))
    assert m is not None and m.optimal
    got = m.slots[0]
    assert m.carbon_t == pytest.approx(0.0, abs=1e-9) and len(got) == n_slots
    assert np.count_nonzero(np.diff(got) > 1) == 1  # two pieces


def test_whole_devices_send_the_second_job_to_the_dirty_hub() -> None:
    # Two 2-device jobs of 1 slot in slot 0; hub 0 (0 g/kWh) has 3 devices, hub 1 600 g/kWh.
    # The LP puts 3 devices at hub 0 and 1 at hub 1: 1 MWh x 600 = 0.6 t. Whole jobs: one job
    # (2 devices, 2 MWh) goes to hub 1: 1.2 t.
    e = energy([[0], [600]], cap=3)
    js = jobs([0, 0], [1, 1], [1, 1], [2, 2], 2)
    assert lp_bound(js, e) == pytest.approx(0.6)
    m = solve_milp_slots(js, e, np.zeros(2))
    assert m is not None and m.optimal
    assert m.carbon_t == pytest.approx(1.2)
    assert sorted(m.hub.tolist()) == [0, 1]


@settings(
    max_examples=10,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(jobs=roomy_jobs())
def test_the_engine_runs_the_milp_schedule_as_it_is(world, jobs) -> None:  # noqa: F811
    sig, net = world
    res = solve_oracle(jobs, sig, net, mode="exact")
    heuristic = rounding_policy(res, jobs, net.n_hubs, sig.grid.n_slots)
    m = solve_milp(jobs, sig, net)
    assert m is not None and m.optimal
    run = simulate(jobs, sig, net, MilpPolicy(m, heuristic))
    check_run(run)  # the simulator's own checks: capacity, device-hours, windows, energy
    p = run.placements
    assert p.hub.tolist() == m.hub.tolist()  # every prescription accepted
    for j, slots in m.slots.items():
        held = p.split_slots.get(j, np.arange(p.start[j], p.start[j] + p.n_slots[j]))
        assert np.asarray(held).tolist() == slots.tolist()
    carbon = run_metrics(run)["carbon_t"]
    tol = 1e-6 * max(1.0, carbon)
    assert carbon == pytest.approx(m.carbon_t, rel=1e-6, abs=1e-9)
    rounded = run_metrics(simulate(jobs, sig, net, heuristic))["carbon_t"]
    assert res.bound_t <= carbon + tol
    assert carbon <= rounded * (1 + 2e-4) + tol  # the MILP's gap is at most 1e-4


def test_a_prescription_the_engine_refuses_falls_back_to_the_heuristic(world) -> None:  # noqa: F811
    sig, net = world
    js_jobs = roomy_example()
    res = solve_oracle(js_jobs, sig, net, mode="exact")
    m = solve_milp(js_jobs, sig, net)
    assert m is not None
    j = next(iter(m.slots))
    bad = dataclasses.replace(m, slots={**m.slots, j: m.slots[j] + 10_000})  # past the horizon
    heuristic = rounding_policy(res, js_jobs, net.n_hubs, sig.grid.n_slots)
    run = simulate(js_jobs, sig, net, MilpPolicy(bad, heuristic))
    check_run(run)
    assert run_metrics(run)["deadline_misses"] == 0
    assert run.placements.hub[j] >= 0


def roomy_example():
    from tests.helpers import make_jobs

    return make_jobs(
        3,
        pool=np.array([0, 1, 0]),
        devices=np.array([1, 2, 3]),
        duration_h=np.array([2.0, 3.0, 1.5]),
        submit_h=np.array([0.0, 5.0, 10.0]),
        deadline_h=np.array([12.0, 20.0, 30.0]),
        interruptible=np.array([True, False, True]),
        checkpoint_h=0.25,
        data_gb=0.0,
    )


def test_simulate_rounds_the_oracle_by_milp_on_a_small_instance(tmp_path, capsys, monkeypatch):
    path = write_yaml(tmp_path / "s.yaml", small_scenario())
    docs = {}
    for how in ("milp", "heuristic", "auto"):
        out = tmp_path / how
        code, stdout, err = run_cli(
            ["simulate", "-s", str(path), "--jobs", "30", "--days", "2", "--policy",
             "baseline,oracle", "--oracle-rounding", how, "--out", str(out), "--no-tables"],
            capsys, monkeypatch,
        )  # fmt: skip
        assert code == 0, err
        assert ("rounded schedule" in stdout) and (("(MILP)" in stdout) == (how != "heuristic"))
        docs[how] = json.loads((out / "results.json").read_text())["oracle"]
    milp, heur = docs["milp"], docs["heuristic"]
    assert milp["rounding"]["method"] == "milp" and milp["rounding"]["optimal"]
    assert heur["rounding"] == {"method": "heuristic"}
    assert docs["auto"]["rounding"]["method"] == "milp"  # small enough
    assert milp["rounded_t"] == pytest.approx(milp["rounding"]["milp_t"], rel=1e-6)
    assert milp["bound_t"] <= milp["rounded_t"] + 1e-6
    assert milp["rounded_t"] <= heur["rounded_t"] * (1 + 2e-4) + 1e-6
    code, _, err = run_cli(["simulate", "-s", str(path), "--oracle-rounding", "exact"], capsys,
                           monkeypatch)  # fmt: skip
    assert code == 2 and "--oracle-rounding: expected one of auto, milp, heuristic" in err
