"""Supply stack: hand-worked tiny cases, a literal reference, and invariants on random inputs."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from greendispatch.domain.model import EnergyAssets
from greendispatch.energy.supply import (
    BatteryParams,
    SupplyResult,
    default_discharge_threshold,
    facility_load_mwh,
    serve_load,
)
from greendispatch.errors import ModelError


def bat(e, p, rte, soc0=0.5, **kw) -> BatteryParams:
    return BatteryParams(
        e_mwh=np.atleast_1d(e), p_mw=np.atleast_1d(p), rte=np.atleast_1d(rte), soc0_frac=soc0, **kw
    )


def one_hub(load, wind, ci, battery, thr, contracted=None, **kw) -> SupplyResult:
    """Serve one hub (rows of length T); solar is 0 (it adds to wind the same way)."""
    zero = [0.0] * len(load)
    r = serve_load([load], [wind], [zero], [contracted or zero], battery, [ci], thr, **kw)
    r.check_balance()
    return r


def row(a: np.ndarray) -> np.ndarray:
    return a[0]


# ---------------------------------------------------------------- hand-worked cases


def test_surplus_charges_with_power_limit_then_discharges_above_threshold() -> None:
    # e 10 MWh, p 4 MW, rte 0.81 -> eta 0.9 each way, starts empty, threshold 500 g/kWh.
    # slot 0: load 2, wind 5 -> own used 2, surplus 3 -> charge 3, stored 2.7, soc 2.7
    # slot 1: load 2, wind 10 -> surplus 8, power limit 4 -> charge 4, stored 3.6, soc 6.3,
    #         curtailed 8 - 4 = 4
    # slot 2: load 5, no wind, ci 900 > 500 -> discharge min(5, p 4, 6.3 * 0.9 = 5.67) = 4,
    #         soc 6.3 - 4 / 0.9 = 1.8556; grid 1. Everything stored was surplus: all green.
    r = one_hub([2, 2, 5], [5, 10, 0], [100, 100, 900], bat(10, 4, 0.81, soc0=0.0), 500.0)
    np.testing.assert_allclose(row(r.own_used_mwh), [2, 2, 0])
    np.testing.assert_allclose(row(r.charge_mwh), [3, 4, 0])
    np.testing.assert_allclose(row(r.curtailed_mwh), [0, 4, 0])
    np.testing.assert_allclose(row(r.discharge_mwh), [0, 0, 4])
    np.testing.assert_allclose(row(r.discharge_green_mwh), [0, 0, 4])
    np.testing.assert_allclose(row(r.grid_mwh), [0, 0, 1])
    np.testing.assert_allclose(row(r.soc_mwh), [2.7, 6.3, 6.3 - 4 / 0.9])
    # losses: 3 * 0.1, 4 * 0.1, 4 / 0.9 - 4
    np.testing.assert_allclose(row(r.loss_mwh), [0.3, 0.4, 4 / 0.9 - 4])
    np.testing.assert_allclose(row(r.green_mwh), [2, 2, 4])
    assert not r.grid_charge_mwh.any()


def test_energy_limit_binds_then_curtails_when_full_and_green_share_is_pooled() -> None:
    # e 5, p 10, rte 1, soc0 0.8 -> 4 MWh stored, of unknown origin (not green).
    # slot 0: load 1, wind 4 -> surplus 3, room 1 -> charge 1, curtailed 2, soc 5 (1/5 green)
    # slot 1: load 1, wind 3 -> surplus 2, battery full -> charge 0, curtailed 2
    # slot 2: load 5, ci 900 > 500 -> discharge min(5, 10, 5) = 5, soc 0; green 5 * 1/5 = 1
    r = one_hub([1, 1, 5], [4, 3, 0], [100, 100, 900], bat(5, 10, 1.0, soc0=0.8), 500.0)
    np.testing.assert_allclose(row(r.charge_mwh), [1, 0, 0])
    np.testing.assert_allclose(row(r.curtailed_mwh), [2, 2, 0])
    np.testing.assert_allclose(row(r.soc_mwh), [5, 5, 0], atol=1e-12)
    np.testing.assert_allclose(row(r.soc_green_mwh), [1, 1, 0], atol=1e-12)
    np.testing.assert_allclose(row(r.discharge_mwh), [0, 0, 5])
    np.testing.assert_allclose(row(r.discharge_green_mwh), [0, 0, 1])
    np.testing.assert_allclose(row(r.grid_mwh), [0, 0, 0], atol=1e-12)
    np.testing.assert_allclose(row(r.loss_mwh), [0, 0, 0])


def test_discharge_only_above_each_hubs_threshold_and_energy_limit_binds() -> None:
    # Two identical hubs, e 10, p 10, rte 0.81 (eta 0.9), soc0 0.5 -> 5 MWh; load 3 each slot;
    # ci 400, 700, 700. Hub 0 threshold 300, hub 1 threshold 600.
    # hub 0: slot 0 discharges 3 (soc 5 - 3/0.9 = 1.6667); slot 1 min(3, 1.6667 * 0.9 = 1.5)
    #        = 1.5 (soc 0), grid 1.5; slot 2 empty, grid 3.
    # hub 1: slot 0 holds (400 < 600), grid 3; slot 1 discharges 3; slot 2 1.5, grid 1.5.
    three = [[3.0, 3.0, 3.0]] * 2
    zero = [[0.0] * 3] * 2
    b = bat([10, 10], [10, 10], [0.81, 0.81])
    r = serve_load(three, zero, zero, zero, b, [[400, 700, 700]] * 2, [300.0, 600.0])
    r.check_balance()
    np.testing.assert_allclose(r.discharge_mwh, [[3, 1.5, 0], [0, 3, 1.5]])
    np.testing.assert_allclose(r.grid_mwh, [[0, 1.5, 3], [3, 0, 1.5]], atol=1e-12)
    np.testing.assert_allclose(r.soc_mwh, [[5 - 3 / 0.9, 0, 0], [5, 5 - 3 / 0.9, 0]], atol=1e-12)


def test_ci_equal_to_threshold_holds() -> None:
    r = one_hub([1, 1], [0, 0], [500, 500.1], bat(10, 10, 1.0), 500.0)
    np.testing.assert_allclose(row(r.discharge_mwh), [0, 1])


def test_battery_before_contracted_which_is_partly_used() -> None:
    # e 2, p 1, rte 1, full; contracted 3 MWh per slot; threshold 500.
    # slot 0: load 5, wind 1 -> 4 left; ci 900 -> discharge 1 (power limit), soc 1;
    #         contracted 3, grid 0
    # slot 1: load 5, ci 100 -> hold; contracted 3, grid 2
    # slot 2: load 2, ci 100 -> contracted 2 (1 not taken), grid 0
    r = one_hub(
        [5, 5, 2], [1, 0, 0], [900, 100, 100], bat(2, 1, 1.0, soc0=1.0), 500.0, contracted=[3, 3, 3]
    )
    np.testing.assert_allclose(row(r.discharge_mwh), [1, 0, 0])
    np.testing.assert_allclose(row(r.contracted_used_mwh), [3, 3, 2])
    np.testing.assert_allclose(row(r.grid_mwh), [0, 2, 0])
    np.testing.assert_allclose(row(r.soc_mwh), [1, 1, 1])
    np.testing.assert_allclose(row(r.green_mwh), [1 + 0 + 3, 3, 2])  # stored energy: not green


def test_a_schedule_stores_surplus_its_plan_did_not_expect() -> None:
    # e 10, p 5, rte 1, empty at first; the plan charges nothing (its forecast had no surplus).
    # slot 0: load 1, wind 4 -> surplus 3 stored anyway: charge 3, soc 3
    # slot 1: load 5, wind 0, plan discharge 2 -> discharge 2, grid 3, soc 1
    # slot 2: load 2, wind 9 -> surplus 7, power limit 5: charge 5, curtailed 2, soc 6
    r = one_hub([1, 5, 2], [4, 0, 9], [900] * 3, bat(10, 5, 1.0, soc0=0.0), 500.0,
                schedule=([[0, 0, 0]], [[0, 2, 0]]))  # fmt: skip
    np.testing.assert_allclose(row(r.charge_mwh), [3, 0, 5])
    np.testing.assert_allclose(row(r.discharge_mwh), [0, 2, 0])
    np.testing.assert_allclose(row(r.grid_mwh), [0, 3, 0])
    np.testing.assert_allclose(row(r.curtailed_mwh), [0, 0, 2])
    np.testing.assert_allclose(row(r.soc_mwh), [3, 1, 6])


def test_a_schedule_charges_from_own_energy_contracted_green_frees() -> None:
    # A plan (an optimiser's) counts contracted green before own energy is stored, as the LP
    # does. e 10, p 5, rte 1, empty at first; contracted 3 MWh per slot.
    # slot 0: load 4, wind 4, plan charge 5 -> own surplus 0, but contracted 3 frees 3 of own:
    #         charge 3 (all own, green), own used 1, contracted 3, grid 0
    # slot 1: load 5, wind 0, plan discharge 5 -> only the 2 contracted cannot cover:
    #         discharge 2, contracted 3, grid 0, soc 1
    # slot 2: load 5, wind 0, plan discharge 0 -> contracted 3, grid 2
    r = one_hub([4, 5, 5], [4, 0, 0], [900] * 3, bat(10, 5, 1.0, soc0=0.0), 500.0,
                contracted=[3, 3, 3], schedule=([[5, 0, 0]], [[0, 5, 0]]))  # fmt: skip
    np.testing.assert_allclose(row(r.charge_mwh), [3, 0, 0])
    np.testing.assert_allclose(row(r.own_used_mwh), [1, 0, 0])
    np.testing.assert_allclose(row(r.curtailed_mwh), [0, 0, 0])
    np.testing.assert_allclose(row(r.discharge_mwh), [0, 2, 0])
    np.testing.assert_allclose(row(r.discharge_green_mwh), [0, 2, 0])
    np.testing.assert_allclose(row(r.contracted_used_mwh), [3, 3, 3])
    np.testing.assert_allclose(row(r.grid_mwh), [0, 0, 2])
    np.testing.assert_allclose(row(r.soc_mwh), [3, 1, 1])
    # The rule (no plan) keeps issue #3's order: no surplus, nothing stored; then the battery
    # would discharge before contracted green.
    rule = one_hub([4, 5, 5], [4, 0, 0], [900] * 3, bat(10, 5, 1.0, soc0=0.0), 500.0,
                   contracted=[3, 3, 3])  # fmt: skip
    np.testing.assert_allclose(row(rule.charge_mwh), [0, 0, 0])
    np.testing.assert_allclose(row(rule.grid_mwh), [0, 2, 2])


def test_grid_charging_is_not_green() -> None:
    # e 4, p 2, rte 0.81 (eta 0.9), empty; grid charge below 200, discharge above 500.
    # slot 0: ci 100 -> grid charge 2, stored 1.8; load 1 from grid
    # slot 1: ci 100 -> room (4 - 1.8) / 0.9 = 2.44 > p -> grid charge 2, soc 3.6
    # slot 2: ci 900 -> discharge min(1, 2, 3.24) = 1, soc 3.6 - 1/0.9; none of it green
    r = one_hub(
        [1, 1, 1],
        [0, 0, 0],
        [100, 100, 900],
        bat(4, 2, 0.81, soc0=0.0),
        500.0,
        grid_charge=True,
        grid_charge_threshold_g_per_kwh=200.0,
    )
    np.testing.assert_allclose(row(r.grid_charge_mwh), [2, 2, 0])
    np.testing.assert_allclose(row(r.charge_mwh), [2, 2, 0])
    np.testing.assert_allclose(row(r.grid_mwh), [1, 1, 0])
    np.testing.assert_allclose(row(r.soc_mwh), [1.8, 3.6, 3.6 - 1 / 0.9])
    np.testing.assert_allclose(row(r.discharge_mwh), [0, 0, 1])
    assert not r.discharge_green_mwh.any()
    assert not r.green_mwh.any()


def test_surplus_charges_before_grid_and_green_share_mixes() -> None:
    # e 10, p 2, rte 1, empty; ci 100 < 200 in slot 0 only, 900 > 500 after.
    # slot 0: load 1, wind 1.5 -> surplus 0.5 charges first, grid tops up 1.5: soc 2, green 0.5
    # slots 1, 2: discharge 1 each, a quarter green each; slot 2 load 2 -> grid 1
    r = one_hub(
        [1, 1, 2],
        [1.5, 0, 0],
        [100, 900, 900],
        bat(10, 2, 1.0, soc0=0.0),
        500.0,
        grid_charge=True,
        grid_charge_threshold_g_per_kwh=200.0,
    )
    np.testing.assert_allclose(row(r.charge_mwh), [2, 0, 0])
    np.testing.assert_allclose(row(r.grid_charge_mwh), [1.5, 0, 0])
    np.testing.assert_allclose(row(r.curtailed_mwh), [0, 0, 0])
    np.testing.assert_allclose(row(r.discharge_mwh), [0, 1, 1])
    np.testing.assert_allclose(row(r.discharge_green_mwh), [0, 0.25, 0.25])
    np.testing.assert_allclose(row(r.grid_mwh), [0, 0, 1])


def test_min_soc_and_dt() -> None:
    # 15-minute slots: p 8 MW -> 2 MWh per slot. e 10, min 0.3 -> 3 MWh floor, soc0 0.6 -> 6.
    # load 3 MWh per slot, ci high: slot 0 discharges 2 (power limit, soc 4), slot 1 the last
    # 1 above the floor (soc 3), slot 2 nothing.
    b = bat(10, 8, 1.0, soc0=0.6, min_soc_frac=0.3)
    r = one_hub([3, 3, 3], [0, 0, 0], [900] * 3, b, 500.0, dt_h=0.25)
    np.testing.assert_allclose(row(r.discharge_mwh), [2, 1, 0])
    np.testing.assert_allclose(row(r.soc_mwh), [4, 3, 3])
    np.testing.assert_allclose(row(r.grid_mwh), [1, 2, 3])


def test_helpers() -> None:
    np.testing.assert_allclose(facility_load_mwh([[10.0, 20.0]], [[1.2, 1.5]], 0.25), [[3, 7.5]])
    np.testing.assert_allclose(default_discharge_threshold([[1, 2, 3], [4, 10, 6]]), [2, 6])
    b = BatteryParams.from_assets(
        [EnergyAssets(battery_mwh=100, battery_mw=25, battery_rte=0.81), EnergyAssets()]
    )
    np.testing.assert_allclose(b.e_mwh, [100, 0])
    np.testing.assert_allclose(b.p_mw, [25, 0])
    np.testing.assert_allclose(b.eta, [0.9, math.sqrt(0.88)])
    np.testing.assert_allclose(b.soc0_mwh, [0, 0])  # batteries start empty


def test_batteries_start_at_their_lowest_state_of_charge() -> None:
    # Energy stored before the horizon has no accounted source: by default a battery starts at
    # its floor (0, or min_soc_frac x e_mwh), so it can give only what the run charged into it.
    b = BatteryParams(e_mwh=[10.0, 20.0], p_mw=[5.0, 5.0], rte=[0.81, 0.81], min_soc_frac=0.25)
    np.testing.assert_allclose(b.soc0_mwh, [2.5, 5.0])
    np.testing.assert_allclose(b.soc0_frac, b.min_soc_frac)
    empty = BatteryParams(e_mwh=[10.0], p_mw=[5.0], rte=[0.81])
    np.testing.assert_allclose(empty.soc0_mwh, [0.0])
    # Slot 0: dirty grid, no surplus: nothing to give. Slot 1: 3 MWh of wind surplus charges
    # (2.7 MWh stored). Slot 2: dirty again: 2.7 x 0.9 = 2.43 MWh back.
    r = one_hub([2, 1, 3], [0, 4, 0], [900, 100, 900], empty, 500.0)
    np.testing.assert_allclose(row(r.discharge_mwh), [0, 0, 2.43])
    np.testing.assert_allclose(row(r.grid_mwh), [2, 0, 0.57])
    np.testing.assert_allclose(row(r.soc_mwh), [0, 2.7, 0])


# ---------------------------------------------------------------- input checks

GOOD = {
    "load_mwh": [[1.0, 2.0]],
    "wind_avail_mwh": [[0.0, 3.0]],
    "solar_avail_mwh": [[0.0, 0.0]],
    "contracted_avail_mwh": [[0.5, 0.5]],
    "battery": bat(4, 2, 0.81),
    "ci_g_per_kwh": [[300.0, 600.0]],
    "discharge_threshold_g_per_kwh": 400.0,
}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"wind_avail_mwh": [[0.0, 3.0, 1.0]]}, "wind_avail_mwh must have shape"),
        ({"load_mwh": [1.0, 2.0]}, "load_mwh must have shape"),
        ({"load_mwh": np.zeros((1, 0))}, "no slots"),
        ({"solar_avail_mwh": [[0.0, -1.0]]}, "solar_avail_mwh must be finite and >= 0"),
        ({"ci_g_per_kwh": [[300.0, np.nan]]}, "ci_g_per_kwh contains NaN"),
        ({"contracted_avail_mwh": [[np.inf, 0.0]]}, "contracted_avail_mwh must be finite"),
        ({"battery": bat([4, 4], [2, 2], [0.8, 0.8])}, "battery has 2 hubs"),
        ({"discharge_threshold_g_per_kwh": [1.0, 2.0]}, "discharge_threshold_g_per_kwh must"),
        ({"dt_h": 0.0}, "dt_h"),
        ({"grid_charge": True}, "needs grid_charge_threshold"),
        ({"grid_charge_threshold_g_per_kwh": 100.0}, "grid_charge is off"),
    ],
)
def test_bad_inputs_raise(change: dict, message: str) -> None:
    with pytest.raises(ModelError, match=message):
        serve_load(**(GOOD | change))


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"e_mwh": [-1.0]}, "e_mwh >= 0"),
        ({"p_mw": [np.nan]}, "must be finite"),
        ({"rte": [0.0]}, "0 < rte <= 1"),
        ({"rte": [1.2]}, "0 < rte <= 1"),
        ({"soc0_frac": 0.1, "min_soc_frac": 0.2}, "min_soc_frac <= soc0_frac"),
        ({"soc0_frac": 1.5}, "soc0_frac <= 1"),
        ({"soc0_green_frac": -0.1}, "soc0_green_frac"),
        ({"rte": [0.9, 0.9]}, "battery rte must have shape"),
    ],
)
def test_bad_battery_raises(kw: dict, message: str) -> None:
    with pytest.raises(ModelError, match=message):
        BatteryParams(**({"e_mwh": [1.0], "p_mw": [1.0], "rte": [0.9]} | kw))


def test_check_balance_catches_tampering() -> None:
    r = serve_load(**GOOD)
    r.check_balance()
    with pytest.raises(ModelError, match="energy balance"):
        dataclasses.replace(r, grid_mwh=r.grid_mwh + 1e-6).check_balance()
    with pytest.raises(ModelError, match="storage balance"):
        dataclasses.replace(r, soc_mwh=r.soc_mwh + 1e-6).check_balance()
    # 1 hub, 1 slot, soc 2 -> 2 while charging 1 from the grid and discharging 1 to load:
    # every balance holds, but a battery cannot do both in one slot.
    one, zero = np.ones((1, 1)), np.zeros((1, 1))
    names = [f.name for f in dataclasses.fields(SupplyResult) if f.name.endswith("_mwh")]
    flows = dict.fromkeys(names, zero) | dict.fromkeys(
        ["load_mwh", "charge_mwh", "grid_charge_mwh", "discharge_mwh"], one
    )
    both = SupplyResult(**flows | {"soc_mwh": 2 * one}, battery=bat(4, 2, 1.0), dt_h=1.0)
    with pytest.raises(ModelError, match="no charge and discharge in one slot"):
        both.check_balance()


def test_a_battery_without_power_holds_its_charge() -> None:
    # e 10, p 0, soc0 0.5: nothing charges or discharges, soc stays 5 (so does its green part).
    r = one_hub([1, 3], [4, 0], [100, 900], bat(10, 0, 0.81, soc0_green_frac=0.2), 500.0)
    np.testing.assert_allclose(row(r.soc_mwh), [5, 5])
    np.testing.assert_allclose(row(r.soc_green_mwh), [1, 1])
    np.testing.assert_allclose(row(r.curtailed_mwh), [3, 0])
    np.testing.assert_allclose(row(r.grid_mwh), [0, 3])
    assert not (r.charge_mwh.any() or r.discharge_mwh.any())


# ---------------------------------------------------------------- reference and properties


def reference(load, wind, solar, contracted, b, ci, thr, dt, gthr):
    """Slow, literal per-hub, per-slot version of the rule."""
    out = {k: np.zeros(load.shape) for k in ("own", "ch", "gch", "dis", "dg", "cu", "grid", "soc")}
    for h in range(load.shape[0]):
        e, ps, eta = b.e_mwh[h], b.p_mw[h] * dt, math.sqrt(b.rte[h])
        soc, lo = b.soc0_frac[h] * e, b.min_soc_frac[h] * e
        sg = soc * b.soc0_green_frac[h]
        for t in range(load.shape[1]):
            avail = wind[h, t] + solar[h, t]
            own = min(load[h, t], avail)
            res = load[h, t] - own
            # The battery discharges only into load that contracted green leaves to the grid.
            ask = res - contracted[h, t] > 0 and ci[h, t] > thr[h]
            c_own = min(avail - own, ps, (e - soc) / eta)
            c_grid = 0.0
            if gthr is not None and ci[h, t] < gthr[h] and not ask:
                c_grid = max(0.0, min(ps, (e - soc) / eta) - c_own)
            d = min(res - contracted[h, t], ps, (soc - lo) * eta) if ask else 0.0
            share = sg / soc if soc > 0 else 0.0
            soc += (c_own + c_grid) * eta - d / eta
            sg += c_own * eta - d / eta * share
            cu = min(res - d, contracted[h, t])
            for k, v in (
                ("own", own),
                ("ch", c_own + c_grid),
                ("gch", c_grid),
                ("dis", d),
                ("dg", d * share),
                ("cu", cu),
                ("grid", res - d - cu),
                ("soc", soc),
            ):
                out[k][h, t] = v
    return out


@st.composite
def cases(draw, *, own_green: bool = True, battery: bool = True):
    h, t = draw(st.integers(1, 3)), draw(st.integers(1, 40))
    energy = st.one_of(st.just(0.0), st.floats(0.0, 10.0, allow_subnormal=False))
    grid = hnp.arrays(np.float64, (h, t), elements=energy)
    per_hub = lambda lo, hi: hnp.arrays(np.float64, h, elements=st.floats(lo, hi))  # noqa: E731
    soc0 = draw(per_hub(0.0, 1.0))
    kw = {
        "load_mwh": draw(grid),
        "wind_avail_mwh": draw(grid) if own_green else np.zeros((h, t)),
        "solar_avail_mwh": draw(grid) if own_green else np.zeros((h, t)),
        "contracted_avail_mwh": draw(grid),
        "battery": BatteryParams(
            e_mwh=draw(per_hub(0.0, 30.0)) if battery else np.zeros(h),
            p_mw=draw(per_hub(0.0, 10.0)),
            rte=draw(per_hub(0.5, 1.0)),
            soc0_frac=soc0,
            min_soc_frac=soc0 * draw(per_hub(0.0, 1.0)),
            soc0_green_frac=draw(per_hub(0.0, 1.0)) if own_green else 0.0,
        ),
        "ci_g_per_kwh": draw(hnp.arrays(np.float64, (h, t), elements=st.floats(0.0, 1000.0))),
        "discharge_threshold_g_per_kwh": draw(per_hub(0.0, 1000.0)),
        "dt_h": draw(st.sampled_from([0.25, 1.0])),
    }
    if draw(st.booleans()):
        kw |= {"grid_charge": True, "grid_charge_threshold_g_per_kwh": draw(per_hub(0.0, 1e3))}
    return kw


@settings(max_examples=300, deadline=None)
@given(cases())
def test_invariants(kw: dict) -> None:
    r = serve_load(**kw)
    r.check_balance(rtol=1e-9)
    b, eta = kw["battery"], kw["battery"].eta[:, None]
    served = r.own_used_mwh + r.discharge_mwh + r.contracted_used_mwh + r.grid_mwh
    np.testing.assert_allclose(served, r.load_mwh, rtol=1e-9, atol=0)
    prev = np.concatenate([b.soc0_mwh[:, None], r.soc_mwh[:, :-1]], axis=1)
    scale = b.e_mwh[:, None] + r.charge_mwh + r.discharge_mwh
    err = np.abs(r.soc_mwh - (prev + r.charge_mwh * eta - r.discharge_mwh / eta))
    assert np.all(err <= 1e-9 * scale)
    assert np.all(r.soc_mwh >= 0.0) and np.all(r.soc_mwh <= b.e_mwh[:, None])
    assert not np.any((r.charge_mwh > 0) & (r.discharge_mwh > 0))
    assert np.all(r.curtailed_mwh >= 0.0)
    assert np.all(r.discharge_green_mwh >= 0.0) and np.all(r.discharge_green_mwh <= r.discharge_mwh)
    assert np.all(r.charge_mwh <= b.p_mw[:, None] * kw["dt_h"] * (1 + 1e-12))
    assert np.all(r.discharge_mwh <= b.p_mw[:, None] * kw["dt_h"] * (1 + 1e-12))
    if not kw.get("grid_charge"):
        assert not r.grid_charge_mwh.any()


@settings(max_examples=200, deadline=None)
@given(cases(), st.data())
def test_a_plan_keeps_the_invariants_and_never_displaces_green(kw: dict, data) -> None:
    shape = kw["load_mwh"].shape
    plan = hnp.arrays(np.float64, shape, elements=st.floats(0.0, 10.0, allow_subnormal=False))
    r = serve_load(**kw, schedule=(data.draw(plan), data.draw(plan)))
    r.check_balance(rtol=1e-9)
    own = kw["wind_avail_mwh"] + kw["solar_avail_mwh"]
    short = np.maximum(kw["load_mwh"] - own - kw["contracted_avail_mwh"], 0.0)
    assert np.all(r.discharge_mwh <= short * (1 + 1e-12))  # only load green cannot cover
    assert np.all(r.grid_mwh <= short * (1 + 1e-9) + 1e-12)  # green serves load before the grid
    # own green is curtailed only where the battery is full, at its power limit or discharging
    b = kw["battery"]
    full = r.soc_mwh >= b.e_mwh[:, None] * (1 - 1e-9) - 1e-12
    at_power = r.charge_mwh >= b.p_mw[:, None] * kw["dt_h"] * (1 - 1e-9) - 1e-12
    assert np.all((r.curtailed_mwh <= 1e-9) | full | at_power | (r.discharge_mwh > 0))


@settings(max_examples=200, deadline=None)
@given(cases())
def test_matches_the_literal_rule(kw: dict) -> None:
    r = serve_load(**kw)
    want = reference(
        *(np.asarray(kw[k]) for k in ("load_mwh", "wind_avail_mwh", "solar_avail_mwh")),
        np.asarray(kw["contracted_avail_mwh"]),
        kw["battery"],
        np.asarray(kw["ci_g_per_kwh"]),
        kw["discharge_threshold_g_per_kwh"],
        kw["dt_h"],
        kw.get("grid_charge_threshold_g_per_kwh"),
    )
    scale = 1e-9 * (kw["battery"].e_mwh.max() + 10.0)
    for key, got in (
        ("own", r.own_used_mwh),
        ("ch", r.charge_mwh),
        ("gch", r.grid_charge_mwh),
        ("dis", r.discharge_mwh),
        ("dg", r.discharge_green_mwh),
        ("cu", r.contracted_used_mwh),
        ("grid", r.grid_mwh),
        ("soc", r.soc_mwh),
    ):
        np.testing.assert_allclose(got, want[key], rtol=0, atol=scale, err_msg=key)


@settings(max_examples=100, deadline=None)
@given(cases(own_green=False))
def test_only_grid_charged_energy_is_never_green(kw: dict) -> None:
    r = serve_load(**kw)
    assert not r.discharge_green_mwh.any()
    assert not r.soc_green_mwh.any()
    np.testing.assert_array_equal(r.green_mwh, r.contracted_used_mwh)


@settings(max_examples=100, deadline=None)
@given(cases(battery=False))
def test_no_battery_is_the_plain_stack(kw: dict) -> None:
    r = serve_load(**kw)
    load, own = kw["load_mwh"], kw["wind_avail_mwh"] + kw["solar_avail_mwh"]
    used = np.minimum(load, own)
    contracted = np.minimum(load - used, kw["contracted_avail_mwh"])
    np.testing.assert_array_equal(r.own_used_mwh, used)
    np.testing.assert_array_equal(r.curtailed_mwh, own - used)
    np.testing.assert_array_equal(r.contracted_used_mwh, contracted)
    np.testing.assert_array_equal(r.grid_mwh, load - used - contracted)
    for a in (r.charge_mwh, r.discharge_mwh, r.grid_charge_mwh, r.soc_mwh, r.loss_mwh):
        assert not a.any()


def test_long_horizon_matches_the_literal_rule() -> None:
    """Many blocks of the blocked scan, both with and without grid charging."""
    rng = np.random.default_rng(7)
    h, t = 4, 1000
    kw = {
        "load_mwh": rng.uniform(0, 10, (h, t)),
        "wind_avail_mwh": rng.uniform(0, 12, (h, t)) * (rng.random((h, t)) < 0.5),
        "solar_avail_mwh": np.zeros((h, t)),
        "contracted_avail_mwh": np.full((h, t), 1.0),
        "battery": bat([0, 20, 50, 200], [5, 5, 10, 50], [0.81, 0.9, 0.88, 1.0], min_soc_frac=0.1),
        "ci_g_per_kwh": rng.uniform(100, 900, (h, t)),
        "discharge_threshold_g_per_kwh": 500.0,
    }
    for gthr in (None, np.full(h, 300.0)):
        extra = (
            {} if gthr is None else {"grid_charge": True, "grid_charge_threshold_g_per_kwh": gthr}
        )
        r = serve_load(**kw, **extra)
        r.check_balance()
        args = [kw[k] for k in ("load_mwh", "wind_avail_mwh", "solar_avail_mwh")]
        want = reference(
            *args,
            kw["contracted_avail_mwh"],
            kw["battery"],
            kw["ci_g_per_kwh"],
            np.full(h, 500.0),
            1.0,
            gthr,
        )
        np.testing.assert_allclose(r.soc_mwh, want["soc"], rtol=0, atol=1e-9)
        np.testing.assert_allclose(r.discharge_green_mwh, want["dg"], rtol=0, atol=1e-9)
        np.testing.assert_allclose(r.grid_mwh, want["grid"], rtol=0, atol=1e-9)
