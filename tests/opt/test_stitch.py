"""The stitched bound: any duals give a bound (weak duality); the windows' give a good one."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from greendispatch.opt.presence import build_presence, presence_classes
from greendispatch.opt.stitch import dual_bound, finite_ub, windows
from tests.opt.test_lp import energy, jobs, toy_jobs


def test_windows_tile_the_horizon_with_their_middles() -> None:
    # 100 slots, windows of 30 kept 20 apart: each keeps its middle, 5 slots from each edge
    assert windows(100, 30, 20) == [
        (0, 30, 0, 25),
        (20, 50, 25, 45),
        (40, 70, 45, 65),
        (60, 90, 65, 85),
        (80, 100, 85, 100),
    ]
    # segments (step = window): a last piece shorter than half a window joins the one before
    assert windows(100, 45, 45) == [(0, 45, 0, 45), (45, 100, 45, 100)]
    assert windows(100, 30, 30) == [(0, 30, 0, 30), (30, 60, 30, 60), (60, 100, 60, 100)]
    assert windows(20, 30, 20) == [(0, 20, 0, 20)]


def _model_and_optimum(js, e):
    model = build_presence(presence_classes(js, e.shape[1]), e)
    sol = model.lp.solve()
    return model, sol


def test_the_optimal_duals_give_the_optimum() -> None:
    # two jobs with slack at two hubs: the LP's own duals give back its optimum exactly
    e = energy([[300, 100, 400, 200], [250, 350, 150, 500]], cap=2)
    model, sol = _model_and_optimum(jobs([0, 1], [4, 4], [2, 1], [1, 2], 2), e)
    assert sol.optimal
    assert dual_bound(model, sol.row_dual) == pytest.approx(sol.objective, rel=1e-7)
    # zero duals: each class at its hub's... nothing priced but the grid at its full load
    assert dual_bound(model, np.zeros(model.lp.n_rows)) <= sol.objective + 1e-9


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=toy_jobs(), seed=st.integers(0, 2**31 - 1), scale=st.sampled_from([0.01, 1.0, 100.0]))
def test_any_duals_give_a_bound(case, seed, scale) -> None:
    js, e = case
    model, sol = _model_and_optimum(js, e)
    if not sol.optimal:
        return
    rng = np.random.default_rng(seed)
    # the optimal duals, disturbed: what stitched windows give is of this kind
    y = sol.row_dual + rng.normal(0.0, scale, model.lp.n_rows)
    assert dual_bound(model, y) <= sol.objective * (1 + 1e-7) + 1e-9


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=toy_jobs())
def test_the_added_upper_bounds_hold_at_the_optimum(case) -> None:
    js, e = case
    model, sol = _model_and_optimum(js, e)
    if not sol.optimal:
        return
    assert (sol.x <= finite_ub(model) + 1e-6).all()
