"""Granular certificates with EnergyTag's fields, issued per generating asset and UTC hour.

Every hub has up to four devices: ``{hub}-wind`` (technology ``wind``), ``{hub}-solar``
(``solar``), ``{hub}-contract`` (``contracted-green``: the contracted green supply) and
``{hub}-battery`` (``storage``: green energy re-issued when the battery discharges). For each
device and production hour one *bundle* is issued for the energy actually produced and used or
stored:

- own wind and solar: what served the load plus what charged the battery from the surplus,
  split between wind and solar pro rata to their available output in that hour; curtailed
  energy gets no certificate;
- contracted green supply: what served the load (the rest of the contract is not taken);
- battery: the green part of the discharge (:mod:`greendispatch.ledger.storage`).

Energy is integer Wh, floored per bundle. A bundle covers ``[range_start, range_end)`` of its
device's running Wh counter (from 0 at the start of the run). Status amounts add up exactly:
``claimed + active + cancelled + expired + withdrawn = energy``. Within a bundle's range the
part cancelled into storage comes first, then the claims, then what is left (active or expired).
Sub-hourly slots are summed into their UTC hour (never coarser). A bundle expires 365 days after
its production end; energy still active then counts as expired.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
import pandas as pd

from greendispatch.domain import Hub
from greendispatch.energy.supply import SupplyResult
from greendispatch.signals.timegrid import TimeGrid

SOURCES: tuple[str, ...] = ("wind", "solar", "battery", "contracted")
WIND, SOLAR, BATTERY, CONTRACTED = range(4)
DEVICE_SUFFIX: tuple[str, ...] = ("wind", "solar", "battery", "contract")
TECHNOLOGY: tuple[str, ...] = ("wind", "solar", "storage", "contracted-green")
WH_PER_MWH = 1_000_000
EXPIRY = timedelta(days=365)
# Added before flooring MWh x 1e6 so that float noise (0.4999999999999 MWh) does not lose a Wh.
EPS_WH = 1e-6
ISO = "%Y-%m-%dT%H:%M:%SZ"


def floor_wh(mwh: np.ndarray | float) -> np.ndarray:
    """Energy in MWh -> whole Wh, floored (int64)."""
    return np.floor(np.asarray(mwh, dtype=np.float64) * WH_PER_MWH + EPS_WH).astype(np.int64)


def to_hours(a: np.ndarray, slots_per_hour: int) -> np.ndarray:
    """Sum the last axis (slots) into UTC hours; a partial last hour sums what it has."""
    if slots_per_hour == 1:
        return a
    n_t = a.shape[-1]
    n_h = -(-n_t // slots_per_hour)
    pad = n_h * slots_per_hour - n_t
    if pad:
        a = np.concatenate([a, np.zeros((*a.shape[:-1], pad), dtype=a.dtype)], axis=-1)
    return a.reshape(*a.shape[:-1], n_h, slots_per_hour).sum(axis=-1)


def hourly_intensity(ci: np.ndarray, slots_per_hour: int, *weights: np.ndarray) -> np.ndarray:
    """Grid intensity per hour (g/kWh): ``ci`` (..., T) averaged over each hour's slots by the
    first of ``weights`` with a positive total in that hour (the grid energy taken, then the
    energy), else plainly. Weighted by the grid energy, the hour's intensity x its grid energy
    is the slots' carbon (with sub-hourly slots too)."""
    out = to_hours(ci, slots_per_hour) / slots_per_hour
    done = np.zeros(out.shape, dtype=bool)
    for w in weights:
        total = to_hours(w, slots_per_hour)
        use = ~done & (total > 0)
        np.divide(to_hours(w * ci, slots_per_hour), total, out=out, where=use)
        done |= use
    return out


def month_index(year: np.ndarray | int, month: np.ndarray | int) -> np.ndarray | int:
    """A calendar month as one number, ``year x 12 + month - 1`` (ints or arrays), so that
    months sort and compare; :func:`year_month` inverts it."""
    return year * 12 + month - 1


def year_month(index: int) -> tuple[int, int]:
    """(year, month) of a :func:`month_index`."""
    year, m = divmod(int(index), 12)
    return year, m + 1


@dataclass(frozen=True, eq=False)
class HourAxis:
    """The UTC production hours of a time grid, with the strings certificates carry.

    ``start``/``end``/``expires`` are ISO 8601 UTC strings per hour (object arrays); ``key`` is
    ``YYYYMMDDHH``; ``year``/``month`` give each hour's calendar month (UTC), ``months`` its
    :func:`month_index`.
    """

    slots_per_hour: int
    n_hours: int
    start: np.ndarray
    end: np.ndarray
    expires: np.ndarray
    key: np.ndarray
    year: np.ndarray
    month: np.ndarray
    expiry_time: pd.DatetimeIndex

    @property
    def months(self) -> np.ndarray:
        """Each hour's :func:`month_index` (int64)."""
        return month_index(self.year.astype(np.int64), self.month)

    @classmethod
    def from_grid(cls, grid: TimeGrid) -> HourAxis:
        sph = grid.slots_per_hour
        n_h = -(-grid.n_slots // sph)
        starts = pd.date_range(grid.start, periods=n_h, freq="h")
        ends = starts + pd.Timedelta(hours=1)
        if n_h * sph != grid.n_slots:  # a partial last hour ends with the grid
            ends = ends[:-1].append(pd.DatetimeIndex([pd.Timestamp(grid.end)]))
        return cls(
            slots_per_hour=sph,
            n_hours=n_h,
            start=starts.strftime(ISO).to_numpy(dtype=object),
            end=ends.strftime(ISO).to_numpy(dtype=object),
            expires=(ends + EXPIRY).strftime(ISO).to_numpy(dtype=object),
            key=starts.strftime("%Y%m%d%H").to_numpy(dtype=object),
            year=starts.year.to_numpy(),
            month=starts.month.to_numpy(),
            expiry_time=ends + EXPIRY,
        )


@dataclass(frozen=True, eq=False)
class HubSites:
    """Per hub: id, location (degrees; NaN when unknown) and grid / market zone."""

    ids: tuple[str, ...]
    lat: np.ndarray
    lon: np.ndarray
    zone: tuple[str, ...]

    @classmethod
    def of(cls, hub_ids: Sequence[str], hubs: Sequence[Hub] = ()) -> HubSites:
        """From the scenario's hubs where given (matched by id), else location unknown."""
        by_id = {h.id: h for h in hubs}
        got = [by_id.get(i) for i in hub_ids]
        return cls(
            ids=tuple(hub_ids),
            lat=np.array([h.lat if h else np.nan for h in got], dtype=np.float64),
            lon=np.array([h.lon if h else np.nan for h in got], dtype=np.float64),
            zone=tuple(h.grid.zone if h else "unknown" for h in got),
        )

    def location(self, h: int) -> dict[str, float] | None:
        if np.isnan(self.lat[h]):
            return None
        return {"lat": float(self.lat[h]), "lon": float(self.lon[h])}


@dataclass(frozen=True, eq=False)
class Generation:
    """Own wind/solar and contracted green certificates before matching.

    ``energy_wh`` / ``cancelled_wh``: (3, H, n_hours) int64 for wind, solar, contracted (the
    cancelled part is own surplus charged into storage). ``slot_mwh``: (3, H, T) float, the same
    sources per slot that served load (what matching shares out).
    """

    energy_wh: np.ndarray
    cancelled_wh: np.ndarray
    slot_mwh: np.ndarray


def issue_generation(supply: SupplyResult, axis: HourAxis) -> Generation:
    """Wind, solar and contracted bundles per hub-hour from the simulator's supply stack."""
    sph = axis.slots_per_hour
    wind_av = to_hours(supply.wind_avail_mwh, sph)
    solar_av = to_hours(supply.solar_avail_mwh, sph)
    own_av = wind_av + solar_av
    share = np.divide(wind_av, own_av, out=np.ones_like(own_av), where=own_av > 0.0)
    own_charge = np.clip(supply.charge_mwh - supply.grid_charge_mwh, 0.0, None)
    used_h = to_hours(supply.own_used_mwh, sph)
    charge_h = to_hours(own_charge, sph)
    contracted_h = to_hours(supply.contracted_used_mwh, sph)
    shares = (share, 1.0 - share)
    energy = np.zeros((3, *used_h.shape), dtype=np.int64)
    cancelled = np.zeros_like(energy)
    for i, s in enumerate(shares):
        energy[i] = floor_wh((used_h + charge_h) * s)
        cancelled[i] = np.minimum(floor_wh(charge_h * s), energy[i])
    energy[2] = floor_wh(contracted_h)
    share_slot = np.repeat(share, sph, axis=1)[:, : supply.own_used_mwh.shape[1]]
    slot = np.stack(
        [
            supply.own_used_mwh * share_slot,
            supply.own_used_mwh * (1.0 - share_slot),
            supply.contracted_used_mwh,
        ]
    )
    return Generation(energy, cancelled, slot)


def device_names(hub_ids: Sequence[str]) -> np.ndarray:
    """(4, H) object array of device ids ``{hub}-{wind|solar|battery|contract}``."""
    return np.array([[f"{h}-{suffix}" for h in hub_ids] for suffix in DEVICE_SUFFIX], dtype=object)


def running_ranges(energy_wh: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each device's running Wh counter over hours: ``[start, end)`` per (source, hub, hour)."""
    end = np.cumsum(energy_wh, axis=-1)
    return end - energy_wh, end


def bundle_table(
    energy_wh: np.ndarray,
    cancelled_wh: np.ndarray,
    claimed_wh: np.ndarray,
    consumed_wh: np.ndarray,
    capacity_mw: np.ndarray,
    axis: HourAxis,
    sites: HubSites,
    as_of: datetime,
) -> tuple[pd.DataFrame, np.ndarray]:
    """One row per non-empty bundle, ordered by (hour, hub, source); and the (4, H, n_hours)
    row lookup (-1 where nothing was issued).

    Inputs are (4, H, n_hours) int64 in :data:`SOURCES` order (``consumed_wh``: cancelled Wh a
    battery bundle drew from storage; loss = consumed - energy); ``capacity_mw`` is (4, H).
    Active energy of a bundle whose expiry is at or before ``as_of`` is counted as expired.
    """
    r_start, r_end = running_ranges(energy_wh)
    t, h, s = np.nonzero(np.transpose(energy_wh, (2, 1, 0)))  # ordered by hour, hub, source
    lookup = np.full(energy_wh.shape, -1, dtype=np.int64)
    lookup[s, h, t] = np.arange(len(s))
    rest = energy_wh[s, h, t] - cancelled_wh[s, h, t] - claimed_wh[s, h, t]
    expired = np.asarray(axis.expiry_time <= pd.Timestamp(as_of))[t]
    devices = device_names(sites.ids)
    key = axis.key[t]
    table = pd.DataFrame(
        {
            "bundle": devices[s, h] + ":" + key,
            "device": devices[s, h],
            "technology": np.array(TECHNOLOGY, dtype=object)[s],
            "source": s.astype(np.int8),
            "hub": h.astype(np.int32),
            "hour": t.astype(np.int32),
            "range_start": r_start[s, h, t],
            "range_end": r_end[s, h, t],
            "energy_wh": energy_wh[s, h, t],
            "claimed_wh": claimed_wh[s, h, t],
            "active_wh": np.where(expired, 0, rest),
            "cancelled_wh": cancelled_wh[s, h, t],
            "expired_wh": np.where(expired, rest, 0),
            "withdrawn_wh": np.zeros(len(s), dtype=np.int64),
            "consumed_wh": consumed_wh[s, h, t],
            "loss_wh": np.where(s == BATTERY, consumed_wh[s, h, t] - energy_wh[s, h, t], 0),
            "capacity_mw": capacity_mw[s, h],
            "lat": sites.lat[h],
            "lon": sites.lon[h],
            "grid_zone": np.array(sites.zone, dtype=object)[h],
            "production_start": axis.start[t],
            "production_end": axis.end[t],
            "expires": axis.expires[t],
        }
    )
    return table, lookup
