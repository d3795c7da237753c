import re
import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from greendispatch.errors import InputError, ModelError
from greendispatch.signals.forecast import (
    Forecaster,
    NoisyForecast,
    PerfectForecast,
    PersistenceForecast,
    make_forecaster,
)

HUBS, SLOTS = 10, 8760


@pytest.fixture(scope="module")
def year():
    """A positive (10, 8760) hourly series with a daily cycle."""
    rng = np.random.default_rng(0)
    hours = np.arange(SLOTS)
    daily = 1.0 + 0.3 * np.sin(2 * np.pi * hours / 24)
    return 400.0 * daily * rng.uniform(0.8, 1.2, (HUBS, SLOTS))


def _reference_persistence(actual, issue, horizon, spd):
    """Slow, literal version of the day-ahead persistence rule."""
    out = []
    for t in range(issue, min(issue + horizon, actual.shape[-1])):
        m = 0
        while t - m * spd > issue:
            m += 1
        out.append(actual[..., max(t - m * spd, 0)])
    return np.stack(out, axis=-1)


# --- protocol and perfect ----------------------------------------------------------------------


def test_all_forecasters_follow_the_protocol(year):
    for f in (PerfectForecast(year), NoisyForecast(year, 0.1, 1), PersistenceForecast(year)):
        assert isinstance(f, Forecaster)
        window = f.forecast(100, 48)
        assert window.shape == (HUBS, 48)
        np.testing.assert_array_equal(window[:, 0], year[:, 100])  # lead 0 is observed


def test_perfect_returns_actuals_and_truncates(year):
    f = PerfectForecast(year[0])
    np.testing.assert_array_equal(f.forecast(10, 5), year[0, 10:15])
    assert f.forecast(SLOTS - 3, 48).shape == (3,)


def test_forecasters_copy_their_input():
    actual = np.arange(10.0)
    f = PerfectForecast(actual)
    actual[5] = -1
    assert f.forecast(5, 1)[0] == 5.0
    f.forecast(0, 3)[0] = 99.0
    assert f.forecast(0, 1)[0] == 0.0


@pytest.mark.parametrize(("issue", "horizon"), [(-1, 4), (10, 4), (0, 0)])
def test_bad_windows_raise(issue, horizon):
    for f in (PerfectForecast(np.ones(10)), PersistenceForecast(np.ones(10), 4)):
        with pytest.raises(ModelError):
            f.forecast(issue, horizon)


# --- persistence -------------------------------------------------------------------------------


def test_persistence_by_hand():
    actual = 100.0 + 10.0 * np.arange(12)  # slot s has value 100 + 10 s
    f = PersistenceForecast(actual, slots_per_day=4)
    # targets 5..10 from issue 5: 5 (observed), 2, 3, 4, 5, 2 (two days back)
    np.testing.assert_array_equal(f.forecast(5, 6), 100.0 + 10.0 * np.array([5, 2, 3, 4, 5, 2]))
    # less than a day of history: sources before slot 0 fall back to slot 0
    np.testing.assert_array_equal(f.forecast(1, 4), [110.0, 100.0, 100.0, 100.0])
    assert f.forecast(10, 5).shape == (2,)


@settings(max_examples=100, deadline=None)
@given(
    actual=hnp.arrays(np.float64, (2, 60), elements=st.floats(-1e3, 1e3)),
    issue=st.integers(0, 59),
    horizon=st.integers(1, 40),
    spd=st.integers(1, 12),
)
def test_persistence_matches_literal_rule(actual, issue, horizon, spd):
    got = PersistenceForecast(actual, spd).forecast(issue, horizon)
    np.testing.assert_array_equal(got, _reference_persistence(actual, issue, horizon, spd))


@settings(max_examples=200, deadline=None)
@given(
    data=st.data(),
    n_slots=st.integers(1, 120),
    horizon=st.integers(1, 60),
    spd=st.sampled_from([1, 4, 24]),
)
def test_persistence_never_reads_future_actuals(data, n_slots, horizon, spd):
    finite = st.floats(-1e6, 1e6, allow_nan=False)
    actual = data.draw(hnp.arrays(np.float64, (3, n_slots), elements=finite))
    issue = data.draw(st.integers(0, n_slots - 1))
    changed = actual.copy()
    n_future = n_slots - issue - 1
    changed[:, issue + 1 :] = data.draw(hnp.arrays(np.float64, (3, n_future), elements=finite))
    before = PersistenceForecast(actual, spd).forecast(issue, horizon)
    after = PersistenceForecast(changed, spd).forecast(issue, horizon)
    np.testing.assert_array_equal(before, after)


# --- noisy -------------------------------------------------------------------------------------


def test_noisy_lead_zero_is_exact_and_errors_grow_with_lead():
    ones = np.ones((HUBS, SLOTS))
    f = NoisyForecast(ones, sigma=0.1, seed=3)
    errors = np.stack([f.forecast(i, 49) - 1.0 for i in range(0, SLOTS - 49, 3)])
    assert np.all(errors[:, :, 0] == 0.0)
    std = errors.reshape(-1, 49).std(axis=0)
    assert std[48] > std[6] > std[1] > 0
    # sigma is the relative error at 24 h; std grows like sqrt(lead)
    assert std[24] == pytest.approx(0.1, rel=0.05)
    assert std[48] == pytest.approx(0.1 * np.sqrt(2), rel=0.05)
    assert std[6] == pytest.approx(0.05, rel=0.05)
    # a random walk: neighbouring leads are strongly correlated
    flat = errors.reshape(-1, 49)
    assert np.corrcoef(flat[:, 24], flat[:, 25])[0, 1] > 0.9


def test_noisy_is_deterministic_in_seed_and_issue_slot(year):
    a, b = NoisyForecast(year, 0.2, seed=11), NoisyForecast(year, 0.2, seed=11)
    first = [a.forecast(i, 48) for i in (500, 7, 500)]
    second = [b.forecast(i, 48) for i in (7, 500)]
    np.testing.assert_array_equal(first[0], first[2])  # repeat call
    np.testing.assert_array_equal(first[0], second[1])  # other call order
    np.testing.assert_array_equal(first[1], second[0])
    # a shorter horizon is a prefix of a longer one
    np.testing.assert_array_equal(a.forecast(500, 12), first[0][:, :12])
    other = NoisyForecast(year, 0.2, seed=12).forecast(500, 48)
    assert not np.array_equal(other, first[0])


def test_noisy_seed_from_generator_and_clipping():
    actual = np.full(200, 5.0)
    f = NoisyForecast(actual, 3.0, np.random.default_rng(1))
    values = np.concatenate([f.forecast(i, 48) for i in range(150)])
    assert values.min() == 0.0  # huge sigma: clipped at zero
    signed = NoisyForecast(-actual, 0.5, 4, clip_min=None).forecast(0, 48)
    assert signed[0] == -5.0 and np.all(signed[1:] != -5.0)


def test_noisy_sigma_zero_is_perfect(year):
    np.testing.assert_array_equal(NoisyForecast(year, 0.0, 1).forecast(42, 48), year[:, 42:90])


@pytest.mark.parametrize(
    ("sigma", "seed", "spd"),
    [(-0.1, 1, 24), (np.nan, 1, 24), (0.1, -1, 24), (0.1, 1.5, 24), (0.1, 1, 0)],
)
def test_noisy_rejects_bad_parameters(sigma, seed, spd):
    with pytest.raises(ModelError):
        NoisyForecast(np.ones(10), sigma, seed, slots_per_day=spd)


# --- registry ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "kind"),
    [
        ("perfect", PerfectForecast),
        ("persistence", PersistenceForecast),
        ("noisy:0.1", NoisyForecast),
        ("noisy:0", NoisyForecast),
        (" noisy:1e-2 ", NoisyForecast),
    ],
)
def test_make_forecaster(spec, kind, year):
    f = make_forecaster(spec, year, seed=1, slots_per_day=24)
    assert isinstance(f, kind)
    assert f.forecast(0, 24).shape == (HUBS, 24)


def test_make_forecaster_passes_slots_per_day():
    actual = np.arange(12.0)
    f = make_forecaster("persistence", actual, seed=0, slots_per_day=4)
    np.testing.assert_array_equal(f.forecast(5, 2), [5.0, 2.0])


def test_bad_spec_message_lists_valid_forms():
    expected = (
        "forecast: expected perfect, persistence or noisy:<sigma> (e.g. noisy:0.1), got 'nosy:0.1'"
    )
    with pytest.raises(InputError, match=re.escape(expected)):
        make_forecaster("nosy:0.1", np.ones(4), seed=0, slots_per_day=24)


@pytest.mark.parametrize(
    "spec",
    [
        "",
        "noisy",
        "noisy:",
        "noisy:-0.1",
        "noisy:abc",
        "noisy:nan",
        "noisy:1e308",
        "perfect:1",
        "Perfect",
    ],
)
def test_bad_specs_raise_input_error(spec):
    with pytest.raises(InputError, match="expected perfect, persistence or noisy:<sigma>"):
        make_forecaster(spec, np.ones(4), seed=0, slots_per_day=24)


# --- speed (printed, not asserted) ---------------------------------------------------------------


def test_speed_8760_calls_horizon_48(year, capsys):
    lines = []
    for name in ("perfect", "persistence", "noisy:0.1"):
        f = make_forecaster(name, year, seed=0, slots_per_day=24)
        t0 = time.perf_counter()
        for i in range(SLOTS):
            f.forecast(i, 48)
        elapsed = time.perf_counter() - t0
        lines.append(
            f"{name:12s} {SLOTS} calls x (10, 48): {elapsed * 1e3:7.1f} ms "
            f"({elapsed / SLOTS * 1e6:.1f} us/call)"
        )
    with capsys.disabled():
        print("\n" + "\n".join(lines))
