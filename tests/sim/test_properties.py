"""Invariants of the engine on random job sets: capacity, energy balance, windows, determinism."""

from __future__ import annotations

import numpy as np
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from greendispatch.dispatch.policies import POLICIES, make_policy
from greendispatch.scenario.loader import parse_scenario
from greendispatch.signals.build import build_signals
from greendispatch.sim.engine import SimRun, simulate
from greendispatch.sim.network import network_arrays
from greendispatch.sim.results import end_hours
from tests.helpers import make_jobs, small_scenario


@pytest.fixture(scope="module")
def world():
    d = small_scenario()
    d["time"]["days"] = 3
    d["hubs"][1]["pools"].append(
        {
            "kind": "ai",
            "device_model": "y",
            "devices": 40,
            "pflops_per_device": 0.3,
            "kw_per_device": 0.9,
            "idle_power_share": 0.2,
        }
    )
    d["hubs"][1]["assets"] = {"solar_mw": 0.05, "battery_mwh": 0.02, "battery_mw": 0.01}
    loaded = parse_scenario(yaml.safe_dump(d), "<w>")
    return build_signals(loaded), network_arrays(loaded.scenario)


@st.composite
def job_sets(draw: st.DrawFn):
    n = draw(st.integers(1, 40))
    f = st.floats(0, 60, allow_nan=False)
    submit = np.array(draw(st.lists(f, min_size=n, max_size=n)))
    dur = np.array(draw(st.lists(st.floats(0.2, 10), min_size=n, max_size=n)))
    slack = np.array(draw(st.lists(st.floats(0, 20), min_size=n, max_size=n)))
    return make_jobs(
        n,
        pool=np.array(draw(st.lists(st.sampled_from([0, 1]), min_size=n, max_size=n))),
        devices=np.array(draw(st.lists(st.integers(1, 60), min_size=n, max_size=n))),
        duration_h=dur,
        submit_h=submit,
        deadline_h=submit + dur + slack,
        interruptible=np.array(draw(st.lists(st.booleans(), min_size=n, max_size=n))),
        checkpoint_h=0.25,
        data_gb=np.array(
            draw(st.lists(st.sampled_from([0.0, 50.0, 5000.0]), min_size=n, max_size=n))
        ),
    )


@st.composite
def roomy_jobs(draw: st.DrawFn):
    """Jobs that fit together (at most 36 devices of a kind, the smallest pool has 40) and
    inside the 72-hour horizon: every policy meets every deadline."""
    n = draw(st.integers(1, 12))
    submit = np.array(draw(st.lists(st.floats(0, 40), min_size=n, max_size=n)))
    dur = np.array(draw(st.lists(st.floats(0.2, 10), min_size=n, max_size=n)))
    slack = np.array(draw(st.lists(st.integers(0, 20), min_size=n, max_size=n)))
    # whole slots from the release slot, so that the window holds the rounded-up work
    deadline = np.ceil(submit) + np.ceil(dur) + slack + 1  # a slot for the data transfer
    return make_jobs(
        n,
        pool=np.array(draw(st.lists(st.sampled_from([0, 1]), min_size=n, max_size=n))),
        devices=np.array(draw(st.lists(st.integers(1, 3), min_size=n, max_size=n))),
        duration_h=dur,
        submit_h=submit,
        deadline_h=deadline,
        interruptible=np.array(draw(st.lists(st.booleans(), min_size=n, max_size=n))),
        checkpoint_h=0.25,
        data_gb=np.array(draw(st.lists(st.sampled_from([0.0, 50.0]), min_size=n, max_size=n))),
    )


def check_run(run: SimRun) -> None:
    jobs, p, net = run.jobs, run.placements, run.net
    dt, n_t = run.signals.grid.dt_h, run.signals.grid.n_slots
    # Capacity is never exceeded, and the booked load is exactly the placed jobs' devices.
    assert np.all(run.busy >= 0)
    assert np.all(run.busy <= net.cap[:, :, None])
    rebuilt = np.zeros_like(run.busy)
    ends = end_hours(jobs, p, dt)
    for j in range(len(jobs)):
        if p.hub[j] < 0:
            assert p.missed[j]
            continue
        slots = p.split_slots.get(j, np.arange(p.start[j], p.start[j] + p.n_slots[j]))
        assert len(slots) == p.n_slots[j] and len(np.unique(slots)) == len(slots)
        rebuilt[p.hub[j], jobs.pool[j], slots] += jobs.devices[j]
        need = int(np.ceil(jobs.duration_h[j] / dt - 1e-9))
        # Exactly its device-hours (plus checkpoint overhead when split)...
        # ... exactly: plus one slot per checkpoint_h of resume overhead for each extra piece.
        # The overhead takes first the part of the last slot the work leaves idle.
        spare = need - jobs.duration_h[j] / dt
        extra = int(np.ceil((p.segments[j] - 1) * jobs.checkpoint_h[j] / dt - spare - 1e-9))
        assert p.n_slots[j] == need + max(extra, 0)
        # ... so no booked slot stands wholly idle: the work and resumes leave under one slot.
        work_slots = (jobs.duration_h[j] + (p.segments[j] - 1) * jobs.checkpoint_h[j]) / dt
        assert -1e-9 <= p.n_slots[j] - work_slots < 1.0
        # ... after its release, and missed exactly when its work ends after its deadline: a
        # contiguous job ends its duration after its start, part way into its last slot.
        release = np.ceil(jobs.submit_h[j] / dt - 1e-9)
        assert slots.min() >= release and slots.max() < n_t
        if p.segments[j] == 1:
            assert ends[j] == pytest.approx(p.start[j] * dt + jobs.duration_h[j], abs=1e-9)
        # The work (resume overheads included) fills its slots in order up to its end.
        work_h = jobs.duration_h[j] + (p.segments[j] - 1) * jobs.checkpoint_h[j]
        last = int(np.ceil(ends[j] / dt - 1e-9)) - 1
        assert last in slots and last <= slots.max()
        assert np.sum(slots < last) * dt + ends[j] - last * dt == pytest.approx(work_h, abs=1e-9)
        assert p.missed[j] == (ends[j] > jobs.deadline_h[j] + 1e-9)
    assert np.array_equal(rebuilt, run.busy)
    # Energy balance per hub-slot: supply = load within 1e-9 relative.
    run.supply.check_balance(rtol=1e-9)
    s = run.supply
    total = s.own_used_mwh + s.discharge_mwh + s.contracted_used_mwh + s.grid_mwh
    assert np.allclose(total, s.load_mwh, rtol=1e-9, atol=0)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    jobs=job_sets(),
    policy=st.sampled_from(list(POLICIES)),
    forecast=st.sampled_from(["perfect", "noisy:0.2", "persistence"]),
)
def test_invariants_hold_for_every_policy(world, jobs, policy, forecast) -> None:
    sig, net = world
    run = simulate(jobs, sig, net, make_policy(policy), forecast=forecast, seed=3)
    check_run(run)


@settings(
    max_examples=10,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(jobs=job_sets(), policy=st.sampled_from(list(POLICIES)))
def test_same_seed_same_results(world, jobs, policy) -> None:
    sig, net = world
    a = simulate(jobs, sig, net, make_policy(policy), forecast="noisy:0.3", seed=11)
    b = simulate(jobs, sig, net, make_policy(policy), forecast="noisy:0.3", seed=11)
    for name in ("hub", "start", "n_slots", "missed", "segments"):
        assert np.array_equal(getattr(a.placements, name), getattr(b.placements, name))
    assert np.array_equal(a.supply.grid_mwh, b.supply.grid_mwh)


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(jobs=job_sets())
def test_mpc_plans_from_the_state_of_charge_the_meters_show(world, jobs) -> None:
    # Forecasts err, so the battery does not do quite what was planned; each cycle must start
    # from the state of charge the run really had, not the plan's.
    from greendispatch.dispatch.mpc import MPC

    sig, net = world
    policy = MPC()
    run = simulate(jobs, sig, net, policy, forecast="noisy:0.5", seed=5)
    t = policy.soc_slot
    want = run.supply.soc_mwh[:, t - 1] if t > 0 else run.supply.battery.soc0_mwh
    np.testing.assert_allclose(policy.soc, want, rtol=1e-9, atol=1e-12)


def test_policies_see_only_the_past() -> None:
    from greendispatch.errors import ModelError

    seen = []

    class Peek(type(make_policy("green-first"))):
        def prepare(self, jobs, net, n_slots, dt_h, battery, observed=None, **kw):
            self.observed = observed

        def begin_cycle(self, t, batch, sv, free, booked_it):
            seen.append(self.observed(0, t).load_mwh.shape[1])
            with pytest.raises(ModelError, match=f"only slots before {t} are known"):
                self.observed(0, t + 1)

    d = small_scenario()
    d["time"]["days"] = 1
    loaded = parse_scenario(yaml.safe_dump(d), "<w>")
    jobs = make_jobs(2, submit_h=np.array([0.0, 5.0]), deadline_h=np.array([10.0, 12.0]))
    simulate(jobs, build_signals(loaded), network_arrays(loaded.scenario), Peek())
    assert seen == [0, 5]


@settings(
    max_examples=10,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(jobs=roomy_jobs())
def test_mpc_without_a_plan_places_every_job_by_marginal_carbon(world, jobs, monkeypatch) -> None:
    # With one simplex iteration and no presolve (which alone solves some small LPs) no cycle's
    # LP is solved, the first one included: jobs that fit together are still all placed inside
    # their windows (by marginal carbon and the room price), as the engine checks, and the
    # batteries follow their own plan.
    from greendispatch.dispatch import mpc as mpc_module
    from greendispatch.dispatch.mpc import MPC

    monkeypatch.setattr(mpc_module, "SHORT_CYCLE_OPTIONS", mpc_module.LONG_CYCLE_OPTIONS)
    sig, net = world
    policy = MPC(iteration_limit=1)
    run = simulate(jobs, sig, net, policy, forecast="noisy:0.3", seed=5)
    check_run(run)
    assert policy.cycles > 0 and policy.unsolved == policy.cycles
    assert np.all(run.placements.hub >= 0) and not run.placements.missed.any()
