"""Certificates through storage (source-grid-load-storage): cancelled on charge, re-issued on
discharge.

Charging from own surplus cancels the charged part of that hour's wind and solar bundles into
the hub's storage: one *charge record* per cancelled bundle, queued in time order (wind before
solar within an hour). Grid charging carries no green attribute and makes no record. When the
battery discharges, the green part of the discharge (the simulator's ``discharge_green_mwh`` for
that hour, floored to Wh) is issued as a ``{hub}-battery`` bundle. It consumes
``floor(green delivered / rte)`` Wh of charge records, first in first out, and
``loss_wh = consumed - delivered`` is the round-trip efficiency loss. An hour's charges are queued
before its discharge. A discharge never consumes more than the queue holds; if rounding leaves
the queue short, the delivered green is cut to what was consumed (a Wh or so). What is left in
the queue at the end is still stored, not lost, so that exactly, in Wh:

    opening + sum(cancelled into storage) = sum(battery energy) + sum(loss) + stored at end

A battery's initial green energy (``soc0_green_frac``, 0 by default) enters the queue as an
``{hub}-battery:opening`` record that no certificate backs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from greendispatch.energy.supply import SupplyResult
from greendispatch.ledger.certificates import EPS_WH, WH_PER_MWH, floor_wh

OPENING = -1  # hour and source code of a hub's opening record


@dataclass(frozen=True, eq=False)
class StorageFlows:
    """The storage queues of all hubs.

    ``delivered_wh`` (battery bundle energy), ``consumed_wh`` (charge records drawn) and
    ``stored_wh`` (queue content at the end of the hour): (H, n_hours) int64, Wh.
    ``records``: one row per charge record, per hub in queue order: ``hub``, ``hour`` and
    ``source`` (0 wind, 1 solar; -1 for the opening record), ``wh``, and its place in the hub's
    queue ``[queue_start, queue_end)``. ``draws``: one row per (discharge hour, record) pair:
    ``hub``, ``hour``, ``record`` (row of ``records``), ``wh``, ``offset`` (Wh into the record).
    """

    delivered_wh: np.ndarray
    consumed_wh: np.ndarray
    stored_wh: np.ndarray
    opening_wh: np.ndarray
    records: pd.DataFrame
    draws: pd.DataFrame

    @property
    def loss_wh(self) -> np.ndarray:
        return self.consumed_wh - self.delivered_wh


def opening_green_wh(supply: SupplyResult) -> np.ndarray:
    """Each hub's initial green energy in the queue's units (Wh drawn at the charge terminals)."""
    b = supply.battery
    return floor_wh(b.soc0_mwh * b.soc0_green_frac / b.eta)


def store_and_discharge(
    cancelled_wh: np.ndarray,
    green_out_mwh: np.ndarray,
    rte: np.ndarray,
    opening_wh: np.ndarray,
) -> StorageFlows:
    """Run the FIFO queues of all hubs at once.

    Parameters
    ----------
    cancelled_wh : (2, H, n_hours) int64
        Wind and solar Wh cancelled into storage per hub-hour.
    green_out_mwh : (H, n_hours) float
        Green energy the battery delivered per hub-hour (simulator), MWh.
    rte : (H,) float
        Round-trip efficiency, in (0, 1].
    opening_wh : (H,) int64
        Green Wh in the queue at the start.
    """
    n_h, n_hours = green_out_mwh.shape
    amounts = np.zeros((n_h, 1 + 2 * n_hours), dtype=np.int64)
    amounts[:, 0] = opening_wh
    amounts[:, 1::2] = cancelled_wh[0]
    amounts[:, 2::2] = cancelled_wh[1]
    q_end = np.cumsum(amounts, axis=1)
    available = q_end[:, 2::2]  # after each hour's charges
    green_wh = floor_wh(green_out_mwh)
    want = np.floor(green_out_mwh * WH_PER_MWH / rte[:, None] + EPS_WH).astype(np.int64)
    want[green_wh == 0] = 0  # no bundle, no draw
    # q[t] = min(q[t-1] + want[t], available[t]) in closed form (available never decreases).
    s = np.cumsum(want, axis=1)
    q = s + np.minimum(0, np.minimum.accumulate(available - s, axis=1))
    q_prev = np.concatenate([np.zeros((n_h, 1), dtype=np.int64), q[:, :-1]], axis=1)
    consumed = q - q_prev
    delivered = np.minimum(green_wh, consumed)

    hub, col = np.nonzero(amounts)
    wh = amounts[hub, col]
    records = pd.DataFrame(
        {
            "hub": hub.astype(np.int32),
            "hour": np.where(col == 0, OPENING, (col - 1) // 2).astype(np.int32),
            "source": np.where(col == 0, OPENING, (col - 1) % 2).astype(np.int8),
            "wh": wh,
            "queue_start": q_end[hub, col] - wh,
            "queue_end": q_end[hub, col],
        }
    )
    # All hubs on one axis: hub h's queue is shifted by the totals of the hubs before it.
    total = q_end[:, -1]
    base = np.cumsum(total) - total
    rec_end = records["queue_end"].to_numpy() + base[hub]
    rec_start = rec_end - wh
    dh, dt = np.nonzero(consumed)
    lo, hi = q_prev[dh, dt] + base[dh], q[dh, dt] + base[dh]
    i0 = np.searchsorted(rec_end, lo, side="right")
    i1 = np.searchsorted(rec_end, hi, side="left")
    count = i1 - i0 + 1
    rep = np.repeat(np.arange(len(dh)), count)
    first = np.cumsum(count) - count
    rec = i0[rep] + (np.arange(len(rep)) - first[rep])
    a = np.maximum(rec_start[rec], lo[rep])
    draws = pd.DataFrame(
        {
            "hub": dh[rep].astype(np.int32),
            "hour": dt[rep].astype(np.int32),
            "record": rec,
            "wh": np.minimum(rec_end[rec], hi[rep]) - a,
            "offset": a - rec_start[rec],
        }
    )
    return StorageFlows(
        delivered_wh=delivered,
        consumed_wh=consumed,
        stored_wh=available - q,
        opening_wh=np.asarray(opening_wh, dtype=np.int64),
        records=records,
        draws=draws[draws["wh"] > 0].reset_index(drop=True),
    )
