"""The engine's helpers on hand-worked inputs: forecasts past their horizon, trimming
split slots, views."""

from __future__ import annotations

import numpy as np
import yaml

from greendispatch.scenario.loader import parse_scenario
from greendispatch.signals.build import build_signals
from greendispatch.sim.engine import _best_window, _cheapest_slots, _Forecasts, _trim
from greendispatch.sim.network import network_arrays
from tests.helpers import small_scenario


def _five_days():
    d = small_scenario()
    d["time"]["days"] = 5
    loaded = parse_scenario(yaml.safe_dump(d), "<five days>")
    return build_signals(loaded), network_arrays(loaded.scenario)


def test_forecasts_beyond_the_horizon_repeat_the_last_forecast_day_on_day_one() -> None:
    sig, net = _five_days()
    n_t, dt = sig.grid.n_slots, sig.grid.dt_h
    booked = np.zeros((net.n_hubs, n_t))
    view = _Forecasts(sig, net, "perfect", 0).slot_view(0, n_t, dt, booked)
    assert view.width == n_t == 120
    day2 = sig.ci_g_per_kwh[:, 24:48]  # the last day of the 48 h forecast
    np.testing.assert_array_equal(view.ci[:, :48], sig.ci_g_per_kwh[:, :48])
    np.testing.assert_array_equal(view.ci[:, 48:], np.tile(day2, 3))
    pue = np.maximum(sig.pue, 1.0)
    np.testing.assert_array_equal(view.ci_pue[:, 48:72], day2 * pue[:, 24:48])
    # A trimmed view slices the same arrays: a booking through it is seen by the cycle's view.
    part = view.trim(30)
    assert part.width == 30 and part.ci_pue.shape == (net.n_hubs, 30)
    before = view.surplus_it_mw[0, 5]
    part.surplus_it_mw[0, 5] -= 1.0
    assert view.surplus_it_mw[0, 5] == before - 1.0


def test_forecasts_beyond_the_horizon_replay_the_days_observed() -> None:
    # At slot 53 (day 2, 05:00) two whole days were observed: beyond the 48 h forecast they
    # replay in order, hour of day kept (day 3 is day 1 again, day 4 day 0), price too.
    sig, net = _five_days()
    dt, t = sig.grid.dt_h, 53
    booked = np.zeros((net.n_hubs, 120 - t))
    view = _Forecasts(sig, net, "perfect", 0).slot_view(t, 120 - t, dt, booked)
    np.testing.assert_array_equal(view.ci[:, :48], sig.ci_g_per_kwh[:, t : t + 48])
    for s in (101, 119):  # day 4, 05:00 and 23:00: day 0's
        np.testing.assert_allclose(view.ci[:, s - t], sig.ci_g_per_kwh[:, s - 96])
        np.testing.assert_allclose(view.price[:, s - t], sig.price_per_mwh[:, s - 96])
    pue = np.maximum(sig.pue, 1.0)
    np.testing.assert_allclose(view.ci_pue[:, 50], sig.ci_g_per_kwh[:, 7] * pue[:, 7])  # slot 103


def test_the_load_booked_now_is_expected_to_persist() -> None:
    # Jobs ending are expected to be replaced: the surplus a policy sees is the green supply
    # less the larger of the load booked for that slot and the load booked now.
    sig, net = _five_days()
    dt = sig.grid.dt_h
    booked = np.zeros((net.n_hubs, 10))
    booked[:, :3] = 2.0
    booked[:, 5] = 3.0
    view = _Forecasts(sig, net, "perfect", 0).slot_view(0, 10, dt, booked)
    pue = np.maximum(sig.pue, 1.0)
    green = sig.wind_pu * net.wind_mw[:, None] + sig.solar_pu * net.solar_mw[:, None]
    green_it = (green + net.contracted_mw[:, None])[:, :10] / pue[:, :10]
    load = np.array([2, 2, 2, 2, 2, 3, 2, 2, 2, 2], dtype=float)
    np.testing.assert_allclose(view.surplus_it_mw, green_it - load)


def test_trim_drops_the_dearest_edge_slots_and_whole_pieces() -> None:
    # 3 slots of work, 0.5 h per resume: two pieces need 4 slots; the dearest edge (slot 2) goes.
    row = np.array([1.0, 1.0, 5.0, 9.0, 9.0, 2.0, 3.0])
    slots, pieces = _trim(np.array([0, 1, 2, 5, 6]), row, 3, 0.5, 1.0)
    assert (slots.tolist(), pieces) == ([0, 1, 5, 6], 2)
    # 2 slots, 1 h per resume: dropping slot 0 (a piece on its own) leaves one piece of 3; then
    # the edges 3 and 5 cost the same and the earlier goes.
    row = np.array([7.0, 0.0, 0.0, 4.0, 1.0, 4.0])
    slots, pieces = _trim(np.array([0, 3, 4, 5]), row, 2, 1.0, 1.0)
    assert (slots.tolist(), pieces) == ([4, 5], 1)


def test_cheapest_slots_and_best_window() -> None:
    row = np.array([1.0, 9.0, 1.0, 9.0, 9.0, 1.0])
    # 2 slots of work: any two of the clean slots are two pieces, whose resume (0.5 h) needs a
    # third slot; the three clean slots are three pieces, whose two resumes still round to one.
    found = _cheapest_slots(row, 2, 0.5, 1.0, True)
    assert found is not None and (found[0].tolist(), found[1]) == ([0, 2, 5], 3)
    # Two free slots apart: their resume needs a third slot, which is taken.
    assert _cheapest_slots(np.array([1.0, np.inf, 1.0]), 2, 0.5, 1.0) is None
    assert _best_window(row, 2) == (10.0, 0, True)  # the earliest of the equal windows
    assert _best_window(np.array([3.0, 1.0, 1.0, 2.0]), 2) == (2.0, 1, True)
    blocked = np.array([1.0, np.inf, 1.0, 1.0, 5.0])
    assert _best_window(blocked, 2) == (2.0, 2, False)
    assert _best_window(blocked, 5) == (float("inf"), 0, False)
