"""The replay of past observations that stands for the forecasts beyond their horizon.

The engine's forecast view (:class:`~greendispatch.sim.engine._Forecasts`) reaches only
``FORECAST_HORIZON_H``; past it each series repeats the last whole days observed before the
issue slot, in order, so a long job meets the spread of real weather rather than a mean day.
"""

from __future__ import annotations

import numpy as np


class _Replay:
    """What an operator expects beyond the forecast horizon, from the past: the last ``days``
    whole days observed before the issue slot, replayed in order (hour of day and day of week
    kept: 28 days are 4 weeks). A replay keeps the weather's spread, which a mean would smooth
    away (a mean wind day covers a job that a real week's calms would not)."""

    def __init__(self, actual: np.ndarray, spd: int, days: int):
        self.actual, self.spd, self.days = actual, spd, days

    def fill(self, out: np.ndarray, t: int, start: int) -> bool:
        """Fill ``out[:, start:]`` (slots t+start..) with the replay seen by slot ``t``; False
        on the first day (no whole day observed yet)."""
        today = t // self.spd
        n = min(today, self.days) * self.spd  # slots replayed
        if n == 0:
            return False
        base = today * self.spd - n
        # Slot s takes actual[base + (s - base) % n]: contiguous copies, one per lap of the replay.
        i, width = start, out.shape[1]
        while i < width:
            a = (t + i - base) % n
            m = min(n - a, width - i)
            out[:, i : i + m] = self.actual[:, base + a : base + a + m]
            i += m
        return True
