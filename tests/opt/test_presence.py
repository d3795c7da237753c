"""The presence LP: each job stays at the hubs it is given, and the bound stays a bound."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings

from greendispatch.opt.model import EnergyInputs
from greendispatch.opt.presence import build_presence, extract_presence, presence_classes
from tests.opt.test_lp import bound, energy, jobs, toy_jobs


def presence_bound(js, e: EnergyInputs, block: int = 1) -> float | None:
    model = build_presence(presence_classes(js, e.shape[1], block), e)
    sol = model.lp.solve()
    if sol.status == "Infeasible":
        return None
    assert sol.optimal, sol.status
    return extract_presence(model, sol, e).carbon_t


def test_a_long_job_stays_at_one_hub_where_grouped_work_hops() -> None:
    # Hub A is clean (100) in slots 0-1, hub B in slots 2-3; a 4-slot job of 1 MW. Hopping:
    # 4 x 100 kg; at one hub (or split pro rata between them) 2 x 100 + 2 x 500 = 1.2 t.
    e = energy([[100, 100, 500, 500], [500, 500, 100, 100]])
    js = jobs([0], [4], [4], [1], 2)
    assert bound(js, e, "grouped") == pytest.approx(0.4)
    assert presence_bound(js, e) == pytest.approx(1.2)
    assert bound(js, e, "jobs") == pytest.approx(1.2)


def test_slack_pauses_the_job_in_its_dirtiest_slots() -> None:
    # A 2-slot job in a 4-slot window at one hub: it pauses in the two dirtiest slots.
    e = energy([[300, 100, 400, 200]])
    assert presence_bound(jobs([0], [4], [2], [1], 1), e) == pytest.approx(0.3)


def test_capacity_limits_the_devices_running() -> None:
    # Two 1-slot jobs of 1 device in slots 0..1 at 100 and 500, one device: 0.6 t.
    e = energy([[100, 500]], cap=1)
    assert presence_bound(jobs([0, 0], [2, 2], [1, 1], [1, 1], 1), e) == pytest.approx(0.6)


def test_the_release_after_data_transfer_is_kept_per_hub() -> None:
    js = jobs([[0, 2]], [2], [1], [1], 2)
    assert presence_bound(js, energy([[300, 300], [100, 100]])) == pytest.approx(0.3)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(toy_jobs())
def test_presence_is_a_bound_on_the_per_job_lp(case) -> None:
    js, e = case
    per_job = bound(js, e, "jobs")
    tight = presence_bound(js, e)
    if per_job is None:
        return
    assert tight is not None and tight <= per_job * (1 + 1e-6) + 1e-9
    widened = presence_bound(js, e, block=2)
    assert widened is not None and widened <= tight * (1 + 1e-6) + 1e-9


def test_a_job_in_one_piece_cannot_pause_in_its_core() -> None:
    # A 2-slot job of 1 MW in a 3-slot window at 100, 500, 100 g/kWh. Interrupted: slots 0 and
    # 2 (0.2 t). In one piece it runs in slot 1 whatever it does (latest start 1, earliest end
    # 2): 0.5 + 0.1 = 0.6 t.
    e = energy([[100, 500, 100]])
    js = jobs([0], [3], [2], [1], 1)
    assert presence_bound(js, e) == pytest.approx(0.2)
    whole = dataclasses.replace(js, interruptible=np.zeros(1, dtype=bool))
    assert presence_bound(whole, e) == pytest.approx(0.6)
