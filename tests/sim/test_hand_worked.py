"""Tiny networks whose results are worked out by hand."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pytest
import yaml

from greendispatch.dispatch.policies import make_policy
from greendispatch.scenario.loader import parse_scenario
from greendispatch.signals.build import Signals, build_signals
from greendispatch.sim.engine import simulate
from greendispatch.sim.metrics import job_energy, jobs_frame, run_metrics
from greendispatch.sim.network import job_windows, network_arrays
from greendispatch.sim.results import end_hours
from tests.helpers import make_jobs, small_scenario


def tiny(
    n_slots: int, assets_a: dict | None = None, devices: int = 4, **arrays: Any
) -> tuple[Any, Signals, Any]:
    """Two hubs (A near Beijing, B far), ``devices`` 1 MW devices each, no idle draw, PUE 1,
    given signals."""
    d = small_scenario()
    d["time"]["days"] = 1
    for hub in d["hubs"]:
        hub["pools"] = [
            {
                "kind": "ai",
                "device_model": "x",
                "devices": devices,
                "pflops_per_device": 1,
                "kw_per_device": 1000,
                "idle_power_share": 0,
            }
        ]
        hub["assets"] = {}
    d["hubs"][0]["lat"], d["hubs"][0]["lon"] = 40.0, 116.0  # A: next to Beijing
    d["hubs"][0]["assets"] = assets_a or {}
    loaded = parse_scenario(yaml.safe_dump(d), "<tiny>")
    sig = build_signals(loaded)
    h, t = 2, sig.grid.n_slots
    base = {
        "ci_g_per_kwh": np.full((h, t), 300.0),
        "pue": np.ones((h, t)),
        "price_per_mwh": np.full((h, t), 50.0),
        "solar_pu": np.zeros((h, t)),
        "wind_pu": np.zeros((h, t)),
        "low_carbon_share": np.zeros((h, t)),
    }
    for k, v in arrays.items():
        base[k][:, :n_slots] = v
    return loaded, dataclasses.replace(sig, **base), network_arrays(loaded.scenario)


CI = [[500, 100, 500, 500], [300, 300, 50, 300]]
PRICE = [[10, 20, 30, 40], [50, 50, 5, 50]]


@pytest.mark.parametrize(
    ("policy", "hub", "start", "carbon_t", "cost"),
    [
        ("baseline", 0, 0, 0.5, 10),  # nearest hub, now: 1 MWh x 500 g/kWh
        ("lowest-carbon", 1, 0, 0.3, 50),  # lowest intensity now: B at 300
        ("wait-awhile", 0, 1, 0.1, 20),  # home hub A, its cleanest hour
        ("carbon-time", 0, 1, 0.1, 20),  # (500 - 100) g saved per hour waited: best at 1 h
        ("green-first", 1, 2, 0.05, 5),  # anywhere, any time: B at hour 2
        ("cost", 1, 2, 0.05, 5),  # cheapest: B at hour 2, 5 per MWh
    ],
)
def test_one_job_two_hubs(policy: str, hub: int, start: int, carbon_t: float, cost: float) -> None:
    _, sig, net = tiny(4, ci_g_per_kwh=CI, price_per_mwh=PRICE)
    jobs = make_jobs(1, deadline_h=4.0)
    run = simulate(jobs, sig, net, make_policy(policy))
    assert (run.placements.hub[0], run.placements.start[0]) == (hub, start)
    m = run_metrics(run)
    assert m["carbon_t"] == pytest.approx(carbon_t, rel=1e-12)
    # Every other slot has zero load (no idle draw), so cost is this job's alone.
    assert m["cost"] == pytest.approx(cost, rel=1e-12)
    assert m["energy_mwh"] == pytest.approx(1.0)
    assert m["wait_mean_h"] == start
    energy, _, carbon_kg = job_energy(run)
    assert energy[0] == pytest.approx(1.0) and carbon_kg[0] == pytest.approx(carbon_t * 1000)


def test_capacity_sends_the_second_wave_elsewhere_or_later() -> None:
    # Hub A has 4 devices; 6 one-device jobs at once: baseline puts 4 at A now, 2 at B now.
    _, sig, net = tiny(4, ci_g_per_kwh=CI)
    run = simulate(make_jobs(6, deadline_h=4.0), sig, net, make_policy("baseline"))
    assert sorted(run.placements.hub.tolist()) == [0, 0, 0, 0, 1, 1]
    assert run.placements.start.tolist() == [0] * 6
    # green-first fills B's clean hour 2 (4 devices) then the next cleanest: A at hour 1.
    run = simulate(make_jobs(6, deadline_h=4.0), sig, net, make_policy("green-first"))
    got = sorted(zip(run.placements.hub.tolist(), run.placements.start.tolist(), strict=True))
    assert got == [(0, 1), (0, 1), (1, 2), (1, 2), (1, 2), (1, 2)]
    assert run_metrics(run)["carbon_t"] == pytest.approx(4 * 0.05 + 2 * 0.1)


def test_interruptible_job_takes_the_cleanest_slots_with_checkpoint_overhead() -> None:
    # 2 h of work at A over hours 0-5; the clean hours 0, 2 and 5 are apart. Two pieces need one
    # resume of 0.5 h -> one more slot; the three cleanest slots (0, 2, 5) form three pieces,
    # whose two resumes of 0.5 h still round up to one slot: 2 + 1 = 3 slots, 300 g in all,
    # against 1,000 for the best contiguous pair.
    ci = [[100, 900, 100, 900, 900, 100], [950] * 6]
    _, sig, net = tiny(6, ci_g_per_kwh=ci)
    jobs = make_jobs(1, duration_h=2.0, deadline_h=6.0, interruptible=True, checkpoint_h=0.5)
    run = simulate(jobs, sig, net, make_policy("wait-awhile"))
    assert run.placements.split_slots[0].tolist() == [0, 2, 5]
    assert run.placements.segments[0] == 3
    assert run_metrics(run)["carbon_t"] == pytest.approx(0.3)


def test_interruptible_job_runs_in_one_piece_when_that_is_cleaner() -> None:
    # 3 h of work with a 1 h checkpoint: the cheapest split (0, 1, 2, 6 = 100+200+100+100 plus
    # the resume slot) costs 500, the contiguous hours 0-2 cost 400: one piece, no resume.
    ci = [[100, 200, 100, 900, 900, 900, 100, 200, 900, 900], [950] * 10]
    _, sig, net = tiny(10, ci_g_per_kwh=ci)
    jobs = make_jobs(1, duration_h=3.0, deadline_h=10.0, interruptible=True, checkpoint_h=1.0)
    for policy in ("wait-awhile", "green-first"):
        run = simulate(jobs, sig, net, make_policy(policy))
        assert (run.placements.start[0], run.placements.n_slots[0]) == (0, 3), policy
        assert run.placements.segments[0] == 1 and 0 not in run.placements.split_slots
        assert run_metrics(run)["carbon_t"] == pytest.approx(0.4)


def test_data_transfer_delays_a_remote_start() -> None:
    # 450 GB over the modelled 100 Gb/s link to B takes 36 s -> rounds up to 1 slot.
    _, sig, net = tiny(4, ci_g_per_kwh=[[500, 500, 500, 500], [10, 400, 400, 400]])
    jobs = make_jobs(1, deadline_h=4.0, data_gb=450.0)
    run = simulate(jobs, sig, net, make_policy("green-first"))
    assert run.placements.hub[0] == 1 and run.placements.start[0] == 1
    assert run.placements.data_moved_gb[0] == 450.0
    # Without data to move it takes B's clean hour 0.
    run = simulate(make_jobs(1, deadline_h=4.0), sig, net, make_policy("green-first"))
    assert (run.placements.hub[0], run.placements.start[0]) == (1, 0)


def test_impossible_deadline_is_a_miss_run_late() -> None:
    _, sig, net = tiny(4)
    jobs = make_jobs(5, duration_h=2.0, deadline_h=2.0, allowed_set=0, allowed_sets=(("west",),))
    run = simulate(jobs, sig, net, make_policy("baseline"))
    # Only 4 devices at the allowed hub: the fifth job waits 2 h and misses its deadline.
    assert run.placements.missed.tolist() == [False, False, False, False, True]
    assert run.placements.start[4] == 2


def four_jobs(policy: str, **cols: Any) -> tuple[Any, Any]:
    """Four jobs of one 1 MW device each on :func:`tiny` (4 devices per hub, 4 hours of given
    signals), and the run of ``policy``."""
    _, sig, net = tiny(4)
    jobs = make_jobs(4, **cols)
    return jobs, simulate(jobs, sig, net, make_policy(policy))


def test_a_job_is_missed_only_if_its_work_ends_after_its_deadline() -> None:
    # Work booked in whole slots ends part way into its last slot: at that slot's start plus
    # the part of the work in it. Job 0 (0.2 h, due at 0.2 h) ends at 0.2 h; job 1 (1.5 h, due
    # at 1.5 h) at 1.5 h: both in time. Job 2 (0.3 h, submitted at 0.5 h, due at 0.8 h) can
    # start only at the next slot boundary (1 h): it ends at 1.3 h, 0.5 h late; job 3 (1 h,
    # submitted at 0.25 h, due at 1.5 h) at 2 h, 0.5 h late. (Judged at the last slot's end,
    # jobs 0 and 1 were missed too.)
    jobs, run = four_jobs(
        "baseline",
        duration_h=[0.2, 1.5, 0.3, 1.0],
        submit_h=[0.0, 0.0, 0.5, 0.25],
        deadline_h=[0.2, 1.5, 0.8, 1.5],
    )
    p = run.placements
    assert p.start.tolist() == [0, 0, 1, 1] and p.n_slots.tolist() == [1, 2, 1, 1]
    np.testing.assert_allclose(end_hours(jobs, p, 1.0), [0.2, 1.5, 1.3, 2.0])
    assert p.missed.tolist() == [False, False, True, True]
    assert run_metrics(run)["deadline_misses"] == 2
    table = jobs_frame(run)
    np.testing.assert_allclose(table["end_h"], [0.2, 1.5, 1.3, 2.0])
    np.testing.assert_allclose(table["late_h"], [0.0, 0.0, 0.5, 0.5])
    # The devices stay reserved for the whole slot but work, and draw their 1 MW above idle
    # (none here), only until the work ends: job 0 uses 0.2 MWh, not a whole hour's 1 MWh.
    np.testing.assert_allclose(table["energy_mwh"], [0.2, 1.5, 0.3, 1.0])
    assert run.supply.load_mwh.sum() == pytest.approx(3.0)  # PUE 1, no idle draw
    np.testing.assert_allclose(table["carbon_kg"], np.array([0.2, 1.5, 0.3, 1.0]) * 300.0)
    assert run.busy.sum() == 5  # capacity still counts whole slots: 1 + 2 + 1 + 1


def test_unplaced_jobs_count_as_missed() -> None:
    # Four 1-device slots per hub over one day (24 slots). Job 0 runs. Job 1 needs 5 devices: no
    # pool is big enough. Job 2 arrives at 23.5 h: released at slot 24, past the last slot.
    # Job 3 needs 3 h from 22 h: nothing fits before the horizon ends. None of the three ever
    # runs, so none meets its deadline: all are missed (job 2 was not: it was never scheduled).
    cols = {
        "devices": [1, 5, 1, 1],
        "duration_h": [1.0, 1.0, 0.25, 3.0],
        "submit_h": [0.0, 0.0, 23.5, 22.0],
        "deadline_h": [24.0, 24.0, 24.0, 30.0],
    }
    for policy in ("baseline", "green-first"):
        _, run = four_jobs(policy, **cols)
        assert run.placements.hub.tolist()[1:] == [-1, -1, -1]
        assert run.placements.missed.tolist() == [False, True, True, True]
        m = run_metrics(run)
        assert (m["unplaced"], m["deadline_misses"]) == (3, 3)
        assert np.isnan(jobs_frame(run)["end_h"][1:]).all()


def test_a_short_job_may_use_the_slot_its_deadline_falls_in() -> None:
    # A 0.5 h job due at 1.5 h may run in slot 1 (1.0-1.5 h), which is cleaner (100 against
    # 500 g/kWh): green-first takes it and meets the deadline. (With windows ending at the last
    # slot boundary before the deadline, only slot 0 was allowed.)
    _, sig, net = tiny(4, ci_g_per_kwh=[[500, 100, 500, 500], [500, 100, 500, 500]])
    jobs = make_jobs(1, duration_h=0.5, deadline_h=1.5)
    run = simulate(jobs, sig, net, make_policy("green-first"))
    assert run.placements.start[0] == 1 and not run.placements.missed[0]
    assert run_metrics(run)["carbon_t"] == pytest.approx(0.05)  # 0.5 MWh at 100 g/kWh
    # The oracle's windows are the engine's: its LP may use slot 1 too.
    assert job_windows(jobs, 4, 1.0)[2].tolist() == [2]


def test_wind_and_battery_serve_the_load_before_the_grid() -> None:
    # Hub A: 2 MW of wind blowing only in hour 0; a 1 MWh / 1 MW battery, empty at the start
    # (batteries start at their lowest state of charge), with round-trip efficiency 0.81 (0.9
    # each way). One 1 MW job runs hours 0-2 at A.
    assets = {"wind_mw": 2, "battery_mwh": 1, "battery_mw": 1, "battery_rte": 0.81}
    ci = [[100, 600, 100], [300, 300, 300]]
    _, sig, net = tiny(3, assets_a=assets, ci_g_per_kwh=ci, wind_pu=[[1, 0, 0], [0, 0, 0]])
    jobs = make_jobs(1, duration_h=3.0, deadline_h=3.0)
    run = simulate(jobs, sig, net, make_policy("baseline"))
    s = run.supply
    # Hour 0: wind 2 MWh, load 1: 1 used; the 1 MWh surplus charges the battery at its power
    # limit (1 MWh in, 0.9 MWh stored); nothing is curtailed.
    assert s.own_used_mwh[0, 0] == pytest.approx(1.0)
    assert s.charge_mwh[0, 0] == pytest.approx(1.0)
    assert s.soc_mwh[0, 0] == pytest.approx(0.9)
    assert s.curtailed_mwh[0, 0] == pytest.approx(0.0)
    # Hour 1: 600 g/kWh is above A's median intensity (300): the battery gives 0.9 x 0.9 =
    # 0.81 MWh, the grid 0.19 MWh. Hour 2: 100 g/kWh is below it: the battery (empty) holds,
    # the grid gives 1 MWh.
    assert s.discharge_mwh[0, 1] == pytest.approx(0.81)
    assert s.grid_mwh[0, 1] == pytest.approx(0.19)
    assert s.grid_mwh[0, 2] == pytest.approx(1.0)
    m = run_metrics(run)
    assert m["carbon_t"] == pytest.approx((0.19 * 600 + 1.0 * 100) / 1000)
    # Green: 1 MWh of wind used, and all of the 0.81 MWh discharged (it was all wind).
    assert m["green_share"] == pytest.approx((1.0 + 0.81) / 3.0)
    assert m["curtailed_mwh"] == pytest.approx(0.0)


def test_green_first_weighs_each_hub_by_the_jobs_power_there() -> None:
    # A's devices draw 2 MW at 300 g/kWh (600 kg per hour), B's 1 MW at 400 g/kWh (400 kg):
    # B is cleaner for this job although its grid is dirtier.
    d = small_scenario()
    d["time"]["days"] = 1
    for hub, kw in zip(d["hubs"], (2000, 1000), strict=True):
        hub["pools"] = [{"kind": "ai", "device_model": "x", "devices": 4, "pflops_per_device": 1,
                         "kw_per_device": kw, "idle_power_share": 0}]  # fmt: skip
        hub["assets"] = {}
    loaded = parse_scenario(yaml.safe_dump(d), "<kw>")
    sig = build_signals(loaded)
    h, t = 2, sig.grid.n_slots
    sig = dataclasses.replace(
        sig,
        ci_g_per_kwh=np.array([[300.0] * t, [400.0] * t]),
        pue=np.ones((h, t)),
        solar_pu=np.zeros((h, t)),
        wind_pu=np.zeros((h, t)),
    )
    run = simulate(make_jobs(1, deadline_h=2.0), sig, network_arrays(loaded.scenario),
                   make_policy("green-first"))  # fmt: skip
    assert run.placements.hub[0] == 1
    assert run_metrics(run)["carbon_t"] == pytest.approx(0.4)


def test_green_first_is_not_put_off_by_load_already_booked() -> None:
    # Hub A (nearest) has no green surplus and 3 of its 4 devices already booked by earlier
    # jobs; a booked grid load must not make the next job's marginal carbon look larger.
    _, sig, net = tiny(4, ci_g_per_kwh=[[300, 300, 300, 300], [310, 310, 310, 310]])
    jobs = make_jobs(4, deadline_h=4.0, allowed_set=0, allowed_sets=(("west",),))
    run = simulate(jobs, sig, net, make_policy("green-first"))
    # All four fit at A in hour 0: same intensity every hour, so no job waits.
    assert run.placements.start.tolist() == [0, 0, 0, 0]
    assert run_metrics(run)["wait_mean_h"] == 0.0


def test_mpc_chooses_a_long_jobs_hub_by_its_whole_run() -> None:
    # A 12 h job, no slack, and a 4 h mpc horizon. Inside the horizon A is cleaner (100 against
    # 200 g/kWh), after it B is (100 against 500): 4 x 100 + 8 x 500 = 4.4 t at A, 4 x 200 +
    # 8 x 100 = 1.6 t at B. Pricing the work past the horizon per hub puts the job at B.
    from greendispatch.dispatch.mpc import MPC

    ci = [[100] * 4 + [500] * 8, [200] * 4 + [100] * 8]
    _, sig, net = tiny(12, ci_g_per_kwh=ci)
    jobs = make_jobs(1, duration_h=12.0, deadline_h=12.0)
    run = simulate(jobs, sig, net, MPC(horizon_h=4.0))
    assert run.placements.hub[0] == 1 and run.placements.start[0] == 0
    assert run_metrics(run)["carbon_t"] == pytest.approx(1.6, rel=1e-9)


def test_mpc_picks_the_solver_options_by_whether_a_cycles_work_reaches_past_its_horizon(
    monkeypatch,
) -> None:
    # A 4 h horizon. The job arriving at hour 0 is due at hour 3 (all inside the horizon): HiGHS's
    # defaults. The one arriving at hour 5 is due at hour 12, past its horizon (hours 5-8): the
    # primal simplex without presolve. Both cycles' LPs are solved; planning() counts them.
    from greendispatch.dispatch import mpc as mpc_module
    from greendispatch.opt.lp import LinearProgram

    seen = []
    real = LinearProgram.solve

    def solve(self, **kw):
        seen.append(kw.get("options"))
        return real(self, **kw)

    monkeypatch.setattr(LinearProgram, "solve", solve)
    _, sig, net = tiny(12)
    jobs = make_jobs(2, duration_h=2.0, submit_h=np.array([0.0, 5.0]),
                     deadline_h=np.array([3.0, 12.0]))  # fmt: skip
    policy = mpc_module.MPC(horizon_h=4.0)
    run = simulate(jobs, sig, net, policy)
    assert seen == [mpc_module.SHORT_CYCLE_OPTIONS, mpc_module.LONG_CYCLE_OPTIONS]
    assert policy.planning() == {"cycles": 2, "unsolved": 0, "iteration_limit": 3000,
                                 "solve_s": policy.solve_s}  # fmt: skip
    assert np.all(run.placements.hub >= 0)


@pytest.mark.parametrize("room_price", [0.0, 1.0])
def test_mpc_prices_the_last_room_of_a_nearly_full_hub(monkeypatch, room_price) -> None:
    # 10 devices per hub; A 250 g/kWh, B 300. Job 0 (9 devices, hours 0-5) takes A. Job 1
    # (1 device, 2 h, arrives at hour 1, may run anywhere) would save 50 g/kWh at A, but A is
    # 90 % booked: half-way from ROOM_PRICE_FROM (80 %) to full, so its room costs
    # 1.0 x 0.5 x mean(250, 300) = 137.5 g/kWh more: 387.5 against 300 at B, and job 1 goes to
    # B. Job 2 (1 device, 4 h, arrives at hour 2, held to A by residency, no slack) then still
    # fits at A. Without the price job 1 takes A's last device in hours 1-2 and job 2 misses its
    # deadline. (Every cycle falls back to scoring: one simplex iteration, no presolve.)
    from greendispatch.dispatch import mpc as mpc_module

    monkeypatch.setattr(mpc_module, "SHORT_CYCLE_OPTIONS", mpc_module.LONG_CYCLE_OPTIONS)
    _, sig, net = tiny(6, devices=10, ci_g_per_kwh=[[250] * 6, [300] * 6])
    jobs = make_jobs(3, devices=np.array([9, 1, 1]), duration_h=np.array([6.0, 2.0, 4.0]),
                     submit_h=np.array([0.0, 1.0, 2.0]), deadline_h=6.0,
                     allowed_set=np.array([-1, -1, 0]), allowed_sets=(("west",),))  # fmt: skip
    policy = mpc_module.MPC(iteration_limit=1, room_price=room_price)
    run = simulate(jobs, sig, net, policy)
    assert policy.unsolved == policy.cycles == 3
    if room_price:
        assert run.placements.hub.tolist() == [0, 1, 0]
        assert not run.placements.missed.any()
    else:
        assert run.placements.hub.tolist() == [0, 0, 0]
        assert run.placements.missed.tolist() == [False, False, True]


def test_a_replanned_job_moves_its_pauses_to_the_dirty_hours_the_forecasts_reveal(
    monkeypatch,
) -> None:
    # 4 h of interruptible work (no checkpoint cost) at A in hours 0-5, forecasts 2 h long;
    # beyond them the last forecast hours repeat. At hour 0 every hour looks like 300 g/kWh, so
    # the job runs in one piece, hours 0-3. Re-planned every hour: at hour 2 the forecasts show
    # 300, 900 (and the repeat 300, 900 after), so the work left goes to hours 2 and 4 instead
    # of 2 and 3; at hour 3 they show 900, 600 (then 900): hour 4 stays; at hour 4 they show
    # 600, 300: the last hour of work moves to hour 5. Actual: 3 x 300 + 300 = 1.2 t, against
    # 3 x 300 + 900 = 1.8 t without re-planning.
    from greendispatch.dispatch.policies import GreenFirst

    monkeypatch.setattr("greendispatch.sim.engine.FORECAST_HORIZON_H", 2)
    ci = [[300, 300, 300, 900, 600, 300], [950] * 6]
    _, sig, net = tiny(6, ci_g_per_kwh=ci)
    jobs = make_jobs(1, duration_h=4.0, deadline_h=6.0, interruptible=True, checkpoint_h=0.0)

    class Replanning(GreenFirst):
        replan_pauses_h = 1.0

    once = simulate(jobs, sig, net, make_policy("green-first"))
    assert (once.placements.start[0], once.placements.n_slots[0]) == (0, 4)
    assert run_metrics(once)["carbon_t"] == pytest.approx(1.8)
    run = simulate(jobs, sig, net, Replanning())
    assert run.placements.split_slots[0].tolist() == [0, 1, 2, 5]
    assert run.placements.segments[0] == 2 and run.placements.n_slots[0] == 4
    assert run_metrics(run)["carbon_t"] == pytest.approx(1.2)
    assert run.busy[0].sum(axis=0).tolist()[:6] == [1, 1, 1, 0, 0, 1]


def test_the_meters_policies_see_show_the_energy_of_the_work() -> None:
    # What a policy sees of the past (``observed``, the operator's meters) is the load the run
    # is accounted with: a job's devices draw their marginal power only while its work runs,
    # also when its last slot is only partly used or a resume overhead leaves a slot idle.
    from greendispatch.dispatch.policies import GreenFirst

    seen = {}

    class Watching(GreenFirst):
        def prepare(self, jobs, net, n_slots, dt_h, battery, observed=None, **kw) -> None:
            seen["observed"] = observed

    _, sig, net = tiny(6, ci_g_per_kwh=[[500, 100, 500, 100, 500, 100], [500] * 6])
    jobs = make_jobs(
        4,
        duration_h=[0.4, 2.5, 1.7, 0.5],
        submit_h=[0.0, 0.0, 0.2, 5.0],  # the last one's cycle at 5 h lets the meters show 0-5 h
        deadline_h=[6.0, 6.0, 6.0, 6.0],
        interruptible=True,
        checkpoint_h=0.25,
    )
    run = simulate(jobs, sig, net, Watching())
    metered = seen["observed"](0, 5).load_mwh
    np.testing.assert_allclose(metered, run.supply.load_mwh[:, :5], rtol=0, atol=1e-12)
    # 1 MW devices, no idle draw, PUE 1: the load is the work, resume overheads included.
    work = jobs.duration_h + (run.placements.segments - 1) * jobs.checkpoint_h
    assert run.supply.load_mwh.sum() == pytest.approx(work.sum())
    assert (run.placements.segments > 1).any()  # the overhead case is exercised


def test_mpc_charges_from_the_grid_when_allowed() -> None:
    # Hub A: no wind, a 1 MWh / 1 MW battery (0.9 each way), 100 g/kWh in hour 0, then 600.
    # One 1 MW job runs hours 0-2 at A. With --grid-charge mpc's plans buy 1 MWh from the grid
    # in hour 0 (0.9 MWh stored) and give 0.81 MWh in a dirty hour: (2 x 100 + 0.19 x 600 +
    # 600) kg = 0.914 t, against 1.3 t without.
    from greendispatch.dispatch.mpc import MPC

    assets = {"battery_mwh": 1, "battery_mw": 1, "battery_rte": 0.81}
    ci = [[100, 600, 600], [900, 900, 900]]
    _, sig, net = tiny(3, assets_a=assets, ci_g_per_kwh=ci)
    jobs = make_jobs(1, duration_h=3.0, deadline_h=3.0)
    got = {}
    for charge in (False, True):
        run = simulate(jobs, sig, net, MPC(), grid_charge=charge)
        assert run.placements.hub[0] == 0
        got[charge] = (run_metrics(run)["carbon_t"], run.supply.grid_charge_mwh.sum())
    assert got[False] == (pytest.approx(1.3), 0.0)
    assert got[True] == (pytest.approx(0.914), pytest.approx(1.0))


def test_a_split_never_lets_its_resumes_push_the_work_past_the_deadline() -> None:
    # 2.5 h of work due at 4.5 h, interruptible, 0.3 h per resume; clean hours 0, 1 and 4.
    # Split as 0-1 + 4 it fills 3 slots (2.5 h + 0.3 h: the resume takes the idle half of the
    # last slot) but ends at 4.8 h, after its deadline: the window's last slot holds only 0.5 h.
    # So green-first runs it in one piece, 0-2, ending at 2.5 h.
    _, sig, net = tiny(5, ci_g_per_kwh=[[0, 0, 900, 900, 0], [900] * 5])
    jobs = make_jobs(1, duration_h=2.5, deadline_h=4.5, interruptible=True, checkpoint_h=0.3)
    run = simulate(jobs, sig, net, make_policy("green-first"))
    p = run.placements
    assert not p.missed[0] and p.slots(0).tolist() == [0, 1, 2]
    assert end_hours(jobs, p, 1.0)[0] == pytest.approx(2.5)
    assert run_metrics(run)["carbon_t"] == pytest.approx(0.45)  # 0.5 MWh at 900 g/kWh


def test_the_battery_never_displaces_contracted_green() -> None:
    # As above, with 0.5 MW of contracted green at A and 600 g/kWh in hours 1 and 2. Hour 1:
    # contracted green covers half the load; the battery gives only the other 0.5 MWh (not
    # all its 0.81), so 0.31 MWh is left for hour 2, where the grid gives 0.19 MWh: 0.114 t.
    # (Discharging everything in hour 1 would leave the contract untaken there and the grid
    # 0.5 MWh in hour 2: 0.3 t.)
    assets = {"wind_mw": 2, "battery_mwh": 1, "battery_mw": 1, "battery_rte": 0.81,
              "contracted_green_mw": 0.5}  # fmt: skip
    ci = [[100, 600, 600], [300, 300, 300]]
    _, sig, net = tiny(3, assets_a=assets, ci_g_per_kwh=ci, wind_pu=[[1, 0, 0], [0, 0, 0]])
    run = simulate(make_jobs(1, duration_h=3.0, deadline_h=3.0), sig, net, make_policy("baseline"))
    s = run.supply
    np.testing.assert_allclose(s.discharge_mwh[0, :3], [0.0, 0.5, 0.31], atol=1e-9)
    np.testing.assert_allclose(s.contracted_used_mwh[0, :3], [0.0, 0.5, 0.5], atol=1e-9)
    np.testing.assert_allclose(s.grid_mwh[0, :3], [0.0, 0.0, 0.19], atol=1e-9)
    assert run_metrics(run)["carbon_t"] == pytest.approx(0.114)
