"""The hub network as frozen dataclasses. Units live in the field names.

Sign convention: load and supply are both positive numbers; a battery's power is positive
when it discharges.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import StrEnum


class PoolKind(StrEnum):
    """Kind of compute capacity, as the hubs report it."""

    GENERAL = "general"
    AI = "ai"
    HPC = "hpc"
    QUANTUM = "quantum"


class SignalSource(StrEnum):
    """Where an hourly signal comes from."""

    FILE = "file"
    MODELLED = "modelled"


@dataclass(frozen=True)
class Pool:
    """Devices of one kind in a hub: GPUs/NPUs for ``ai``, nodes for ``hpc``, cores for ``general``.

    ``pflops_per_device`` is peak PFLOPS; ``kw_per_device`` the draw at full load including the
    device's share of its server; ``idle_power_share`` the fraction of that drawn when idle.
    """

    kind: PoolKind
    device_model: str
    devices: int
    pflops_per_device: float
    kw_per_device: float
    idle_power_share: float = 0.3

    @property
    def pflops(self) -> float:
        return self.devices * self.pflops_per_device

    @property
    def it_mw(self) -> float:
        """IT power at full load (MW)."""
        return self.devices * self.kw_per_device / 1000.0


@dataclass(frozen=True)
class PueModel:
    """PUE per slot from outdoor temperature: ``pue_min`` under free cooling at or below
    ``t_free_c``, rising linearly to ``pue_max`` at ``t_max_c``."""

    pue_min: float = 1.15
    pue_max: float = 1.35
    t_free_c: float = 10.0
    t_max_c: float = 35.0


@dataclass(frozen=True)
class EnergyAssets:
    """A hub's own and contracted green supply (source-grid-load-storage).

    Battery power is positive when discharging; ``battery_rte`` is the round-trip efficiency.
    ``contracted_green_mw`` is a flat contracted green supply (e.g. a direct-supply line or PPA).
    """

    wind_mw: float = 0.0
    turbine_type: str = "E-126/4200"
    hub_height_m: float = 100.0
    solar_mw: float = 0.0
    solar_tilt_deg: float = 30.0
    solar_azimuth_deg: float = 180.0
    battery_mwh: float = 0.0
    battery_mw: float = 0.0
    battery_rte: float = 0.88
    contracted_green_mw: float = 0.0


@dataclass(frozen=True)
class Climate:
    """Climate normals used where no weather file exists (all modelled).

    ``solar_cf`` is the annual AC capacity factor that the seeded cloud model is calibrated to.
    """

    t_mean_c: float = 10.0
    t_seasonal_amp_c: float = 12.0
    t_diurnal_amp_c: float = 5.0
    wind_mean_ms: float = 7.0
    wind_weibull_k: float = 2.0
    wind_ref_height_m: float = 100.0
    solar_cf: float = 0.16


@dataclass(frozen=True)
class Grid:
    """The grid a hub imports from.

    Carbon comes from an Electricity Maps CSV (``carbon_file``) or is modelled from the official
    annual provincial factor of ``zone`` shaped by the hourly renewable share. Price comes from a
    price CSV (``price_file``) or a time-of-use table (``tou``: preset name) around
    ``flat_price_per_mwh``. ``utc_offset_h`` is the local standard time offset used by tariffs.
    """

    zone: str
    carbon: SignalSource = SignalSource.MODELLED
    carbon_file: str | None = None
    price: SignalSource = SignalSource.MODELLED
    price_file: str | None = None
    weather_file: str | None = None
    tou: str = "default"
    flat_price_per_mwh: float = 500.0
    currency: str = "CNY"
    utc_offset_h: float = 8.0
    renewable_base_share: float = 0.15
    wind_weight: float = 0.2
    solar_weight: float = 0.1


@dataclass(frozen=True)
class PlannedCentre:
    """A computing centre announced for a hub but not yet in its reported capacity (a planner's
    "what if"): ``cabinets`` at ``cabinet_kw_min``..``cabinet_kw_max`` kW deploying ``pflops``."""

    name: str
    name_zh: str
    kind: PoolKind
    cabinets: int
    cabinet_kw_min: float
    cabinet_kw_max: float
    pflops: float
    online: str = ""

    @property
    def it_mw_range(self) -> tuple[float, float]:
        return (
            self.cabinets * self.cabinet_kw_min / 1000,
            self.cabinets * self.cabinet_kw_max / 1000,
        )


@dataclass(frozen=True)
class Hub:
    """A data-centre cluster of a hub node (e.g. Horinger, 和林格尔)."""

    id: str
    name: str
    name_zh: str
    lat: float
    lon: float
    grid: Grid
    pools: tuple[Pool, ...]
    racks: int = 0
    rack_kw: float = 8.0
    assets: EnergyAssets = field(default_factory=EnergyAssets)
    pue: PueModel = field(default_factory=PueModel)
    climate: Climate = field(default_factory=Climate)
    pue_target: float = 1.25
    region: str = "west"
    planned: tuple[PlannedCentre, ...] = ()

    def pflops_by_kind(self) -> dict[PoolKind, float]:
        out: dict[PoolKind, float] = {}
        for p in self.pools:
            out[p.kind] = out.get(p.kind, 0.0) + p.pflops
        return out

    @property
    def pflops(self) -> float:
        return sum(p.pflops for p in self.pools)

    @property
    def it_mw(self) -> float:
        """IT power of all pools at full load (MW)."""
        return sum(p.it_mw for p in self.pools)


@dataclass(frozen=True)
class DemandRegion:
    """Where users and their data are (Beijing, Shanghai, ...). ``weight`` is its share of
    demand; jobs originate in regions in proportion to it."""

    id: str
    name: str
    name_zh: str
    lat: float
    lon: float
    weight: float = 1.0


@dataclass(frozen=True)
class Link:
    """A network path between two endpoints (region or hub ids). ``modelled`` links come from
    great-circle distance; others were given in the scenario."""

    a: str
    b: str
    latency_ms: float
    bandwidth_gbps: float
    modelled: bool = False


@dataclass(frozen=True)
class Network:
    """How links are modelled where the scenario does not give them.

    One-way latency = great-circle km x ``route_factor`` x ``us_per_km`` / 1000.
    """

    route_factor: float = 1.5
    us_per_km: float = 5.0
    default_bandwidth_gbps: float = 100.0
    inter_hub_target_ms: float = 20.0


@dataclass(frozen=True)
class TimeSpec:
    """The scenario's time grid: UTC start, length in days, slot length in hours."""

    start: str = "2023-01-01T00:00:00Z"
    days: int = 365
    dt_h: float = 1.0


@dataclass(frozen=True)
class Scenario:
    """A hub network with its demand regions, links and time grid."""

    name: str
    title: str
    title_zh: str
    hubs: tuple[Hub, ...]
    regions: tuple[DemandRegion, ...] = ()
    links: tuple[Link, ...] = ()
    network: Network = field(default_factory=Network)
    time: TimeSpec = field(default_factory=TimeSpec)
    seed: int = 0
    description: str = ""

    def hub(self, hub_id: str) -> Hub:
        for h in self.hubs:
            if h.id == hub_id:
                return h
        raise KeyError(hub_id)

    @property
    def uses_data_files(self) -> bool:
        return any(
            h.grid.carbon_file or h.grid.price_file or h.grid.weather_file for h in self.hubs
        )


EARTH_RADIUS_KM = 6371.0088


def great_circle_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Haversine distance (km) between two points given in degrees."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))
