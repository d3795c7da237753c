"""PUE model: free cooling, linear ramp, clipping, energy-weighted annual PUE."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from greendispatch.errors import ModelError
from greendispatch.signals.pue import annual_pue, pue_from_temperature

PARAMS = {"pue_min": 1.1, "pue_max": 1.5, "t_free_c": 10.0, "t_max_c": 30.0}


def test_free_cooling_ramp_and_clip() -> None:
    pue = pue_from_temperature([-20.0, 10.0, 20.0, 25.0, 30.0, 45.0], **PARAMS)
    np.testing.assert_allclose(pue, [1.1, 1.1, 1.3, 1.4, 1.5, 1.5])


def test_scalar_in_scalar_out() -> None:
    assert float(pue_from_temperature(20.0, **PARAMS)) == pytest.approx(1.3)


@given(st.lists(st.floats(-60.0, 60.0), min_size=2, max_size=100))
def test_pue_is_bounded_and_monotone(temps: list[float]) -> None:
    t = np.sort(np.array(temps))
    pue = pue_from_temperature(t, **PARAMS)
    assert np.all((pue >= PARAMS["pue_min"]) & (pue <= PARAMS["pue_max"]))
    assert np.all(np.diff(pue) >= 0.0)


@pytest.mark.parametrize(
    "bad",
    [
        {"pue_min": 0.9},
        {"pue_max": 1.05},
        {"t_max_c": 10.0},
        {"t_max_c": 5.0},
        {"t_free_c": float("nan")},
    ],
)
def test_impossible_parameters_raise(bad: dict) -> None:
    with pytest.raises(ModelError):
        pue_from_temperature([20.0], **(PARAMS | bad))


def test_annual_pue_weights_by_it_energy() -> None:
    assert annual_pue([1.1, 1.5]) == pytest.approx(1.3)
    assert annual_pue([1.1, 1.5], it_load=[3.0, 1.0]) == pytest.approx(1.2)
    assert annual_pue([1.1, 1.5], it_load=[1.0, 0.0]) == pytest.approx(1.1)


@given(
    st.lists(st.tuples(st.floats(1.0, 3.0), st.floats(0.0, 1e6)), min_size=1, max_size=50).filter(
        lambda rows: sum(w for _, w in rows) > 0.0
    )
)
def test_annual_pue_lies_within_the_slot_values(rows: list[tuple[float, float]]) -> None:
    pue, load = (np.array(col) for col in zip(*rows, strict=True))
    value = annual_pue(pue, load)
    assert pue.min() - 1e-12 <= value <= pue.max() + 1e-12


@pytest.mark.parametrize(
    ("pue", "load"),
    [([], None), ([0.9], None), ([1.2, 1.3], [1.0]), ([1.2], [-1.0]), ([1.2, 1.3], [0.0, 0.0])],
)
def test_annual_pue_rejects_bad_input(pue: list[float], load: list[float] | None) -> None:
    with pytest.raises(ModelError):
        annual_pue(pue, load)
