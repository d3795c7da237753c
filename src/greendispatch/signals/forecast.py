"""Forecasts of per-slot series (carbon intensity, price, renewable output, ...).

Every forecaster answers one question, :meth:`Forecaster.forecast`: standing at ``issue_slot``,
what are the values of slots ``issue_slot .. issue_slot + horizon - 1``? Lead 0 is the current
slot, which is observed, so every forecaster returns the actual value there. Windows are truncated
at the end of the series. Series have shape (n_slots,) or (n_hubs, n_slots); forecasts have the
same leading shape and ``horizon`` (or fewer, when truncated) slots on the last axis.

Online policies only see these forecasts, never the actual future (DESIGN.md).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np

from greendispatch.errors import InputError, ModelError, Problem

SeedLike = int | np.random.Generator
"""A non-negative integer seed, or a generator from which one integer seed is drawn."""


@runtime_checkable
class Forecaster(Protocol):
    """Something that forecasts a per-slot series."""

    def forecast(self, issue_slot: int, horizon: int) -> np.ndarray:
        """Values for slots ``issue_slot .. issue_slot + horizon - 1``, shape (..., horizon).

        Lead 0 (``issue_slot``) is observed. The window is truncated at the end of the series.
        """
        ...


def _as_series(actual: np.ndarray) -> np.ndarray:
    """A private read-only float64 copy of ``actual`` (so later edits by the caller don't leak)."""
    series = np.array(actual, dtype=np.float64, copy=True)
    if series.ndim == 0 or series.shape[-1] == 0:
        raise ModelError(f"series to forecast needs at least one slot, got shape {series.shape}")
    if not np.all(np.isfinite(series)):
        raise ModelError("series to forecast must be finite (no NaN or inf)")
    series.flags.writeable = False
    return series


def _window_end(n_slots: int, issue_slot: int, horizon: int) -> int:
    """End (exclusive) of the forecast window, after checking its arguments."""
    if not 0 <= issue_slot < n_slots:
        raise ModelError(f"issue_slot must be in [0, {n_slots}), got {issue_slot}")
    if horizon < 1:
        raise ModelError(f"horizon must be >= 1 slot, got {horizon}")
    return min(issue_slot + horizon, n_slots)


def _check_slots_per_day(slots_per_day: int) -> int:
    if isinstance(slots_per_day, bool) or not isinstance(slots_per_day, int | np.integer):
        raise ModelError(f"slots_per_day must be an integer, got {slots_per_day!r}")
    if slots_per_day < 1:
        raise ModelError(f"slots_per_day must be >= 1, got {slots_per_day}")
    return int(slots_per_day)


def _base_seed(seed: SeedLike) -> int:
    if isinstance(seed, np.random.Generator):
        return int(seed.integers(0, 2**63))
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ModelError(f"seed must be a non-negative integer or a numpy Generator, got {seed!r}")
    return int(seed)


class PerfectForecast:
    """Perfect foresight: the forecast is the actual series.

    Parameters
    ----------
    actual : array
        The series, shape (n_slots,) or (n_hubs, n_slots), in its own unit.
    """

    def __init__(self, actual: np.ndarray):
        self._actual = _as_series(actual)

    def forecast(self, issue_slot: int, horizon: int) -> np.ndarray:
        end = _window_end(self._actual.shape[-1], issue_slot, horizon)
        return self._actual[..., issue_slot:end].copy()


class NoisyForecast:
    """Actual values with a relative error that grows with lead time.

    ``forecast = max(actual * (1 + e_k), clip_min)`` at lead ``k`` slots, where ``e_0 = 0`` and
    ``e_k`` is a Gaussian random walk along the horizon with
    ``std(e_k) = sigma * sqrt(lead_h / 24)``, ``lead_h = k * 24 / slots_per_day``: errors at
    neighbouring leads are correlated, as in real forecasts. Each hub has its own walk. Lead 0 is
    observed and returned exactly.

    Deterministic: the errors of a call depend only on ``(seed, issue_slot)`` (the generator is
    ``np.random.default_rng([seed, issue_slot])``), never on the order of calls, and a shorter
    horizon gives a prefix of a longer one. Each call costs O(n_hubs * horizon).

    Parameters
    ----------
    actual : array
        The series, shape (n_slots,) or (n_hubs, n_slots), in its own unit.
    sigma : float
        Relative error (standard deviation, fraction) at a lead of 24 h, >= 0.
    seed : int or numpy Generator
        Non-negative integer seed; a Generator is asked for one integer seed at construction.
    slots_per_day : int
        Slots per day of the series (24 for hourly slots).
    clip_min : float or None
        Lower bound of forecast values (0 by default: intensity, output and most prices are
        non-negative); ``None`` for series that may be negative.
    """

    def __init__(
        self,
        actual: np.ndarray,
        sigma: float,
        seed: SeedLike,
        *,
        slots_per_day: int = 24,
        clip_min: float | None = 0.0,
    ):
        if not np.isfinite(sigma) or sigma < 0:
            raise ModelError(f"sigma must be a finite relative error >= 0, got {sigma}")
        self._actual = _as_series(actual)
        self._sigma = float(sigma)
        self._seed = _base_seed(seed)
        self._slots_per_day = _check_slots_per_day(slots_per_day)
        self._clip_min = clip_min

    def forecast(self, issue_slot: int, horizon: int) -> np.ndarray:
        end = _window_end(self._actual.shape[-1], issue_slot, horizon)
        truth = self._actual[..., issue_slot:end]
        n_leads = end - issue_slot
        rng = np.random.default_rng([self._seed, issue_slot])
        # Lead-major draws, so that a shorter horizon takes a prefix of the same stream.
        steps = rng.standard_normal((n_leads - 1, *truth.shape[:-1]))
        step_std = self._sigma / np.sqrt(self._slots_per_day)
        error = np.zeros(truth.shape)
        error[..., 1:] = np.moveaxis(np.cumsum(steps, axis=0), 0, -1) * step_std
        values = truth * (1.0 + error)
        if self._clip_min is not None:
            values = np.maximum(values, self._clip_min)
        values[..., 0] = truth[..., 0]
        return values


class PersistenceForecast:
    """Day-ahead persistence: each target slot repeats the latest observed value at its time of day.

    For target slot ``t`` the forecast is ``actual[t - m * slots_per_day]`` with the smallest
    ``m >= 0`` that puts the source at or before ``issue_slot`` (so lead 0 is the observation and
    later leads look back one or more whole days). While less than a day of history exists, a
    source before slot 0 is replaced by the earliest observed value, ``actual[0]``.

    Only ``actual[..., :issue_slot + 1]`` is read: the series is sliced to the past first.

    Parameters
    ----------
    actual : array
        The series, shape (n_slots,) or (n_hubs, n_slots), in its own unit.
    slots_per_day : int
        Slots per day of the series (24 for hourly slots, 96 for 15-minute slots).
    """

    def __init__(self, actual: np.ndarray, slots_per_day: int = 24):
        self._actual = _as_series(actual)
        self._slots_per_day = _check_slots_per_day(slots_per_day)

    def forecast(self, issue_slot: int, horizon: int) -> np.ndarray:
        end = _window_end(self._actual.shape[-1], issue_slot, horizon)
        observed = self._actual[..., : issue_slot + 1]
        ahead = np.arange(end - issue_slot)
        days_back = -(-ahead // self._slots_per_day)
        source = np.maximum(issue_slot + ahead - days_back * self._slots_per_day, 0)
        return observed[..., source]


# --- registry of forecast specs ---------------------------------------------------------------


@dataclass(frozen=True)
class _SpecForm:
    form: str
    takes_arg: bool
    build: Callable[[float | None, np.ndarray, SeedLike, int], Forecaster]


def _build_noisy(sigma: float | None, actual: np.ndarray, seed: SeedLike, spd: int) -> Forecaster:
    return NoisyForecast(actual, float(sigma or 0.0), seed, slots_per_day=spd)


FORECAST_SPECS: dict[str, _SpecForm] = {
    "perfect": _SpecForm("perfect", False, lambda _a, actual, _s, _d: PerfectForecast(actual)),
    "persistence": _SpecForm(
        "persistence", False, lambda _a, actual, _s, spd: PersistenceForecast(actual, spd)
    ),
    "noisy": _SpecForm("noisy:<sigma> (e.g. noisy:0.1)", True, _build_noisy),
}
"""Forecast specs by name, as written in scenarios and on the command line."""


# A relative error of 10 (1,000 %) at 24 h is already noise; more only overflows.
MAX_SIGMA = 10.0


def _spec_error(spec: str, reason: str = "") -> InputError:
    forms = [f.form for f in FORECAST_SPECS.values()]
    expected = ", ".join(forms[:-1]) + " or " + forms[-1] if len(forms) > 1 else forms[0]
    suffix = f" ({reason})" if reason else ""
    message = f"expected {expected}, got {spec!r}{suffix}"
    return InputError(Problem("<input>", None, "forecast", message))


def make_forecaster(
    spec: str,
    actual: np.ndarray,
    *,
    seed: SeedLike,
    slots_per_day: int,
) -> Forecaster:
    """Build a forecaster from a spec: ``perfect``, ``persistence`` or ``noisy:<sigma>``.

    Parameters
    ----------
    spec : str
        The forecast spec; ``sigma`` is the relative error at 24 h lead, a number >= 0.
    actual : array
        The series to forecast, shape (n_slots,) or (n_hubs, n_slots).
    seed : int or numpy Generator
        Randomness for noisy forecasts (ignored by the others).
    slots_per_day : int
        Slots per day of the series.

    Raises
    ------
    InputError
        For an unknown name or a bad argument; the message lists the valid forms.
    """
    if not isinstance(spec, str):
        raise _spec_error(repr(spec))
    name, has_arg, arg_text = spec.strip().partition(":")
    entry = FORECAST_SPECS.get(name)
    if entry is None or bool(has_arg) != entry.takes_arg:
        raise _spec_error(spec)
    arg: float | None = None
    if entry.takes_arg:
        try:
            arg = float(arg_text)
        except ValueError:
            raise _spec_error(spec, f"sigma must be a number from 0 to {MAX_SIGMA:g}") from None
        if not 0 <= arg <= MAX_SIGMA:
            raise _spec_error(spec, f"sigma must be a number from 0 to {MAX_SIGMA:g}")
    return entry.build(arg, actual, seed, _check_slots_per_day(slots_per_day))
