"""Pydantic models of the scenario file: validation at the edge, then frozen domain objects.

Field names and defaults mirror :mod:`greendispatch.domain.model`; every model forbids unknown
keys so that a typo is reported (with the nearest valid key) instead of silently ignored.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationInfo, field_validator

from greendispatch.domain import model as dm
from greendispatch.scenario.yamlnumbers import PlainNumber

Share = Annotated[float, Field(ge=0, le=1)]
Identifier = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.\-]+$")]
# Upper bounds far beyond any real site, so that a typo (1e30 devices) is an error in the file
# and not an overflow deep in a year-long run.
MegaWatts = Annotated[float, Field(ge=0, le=1_000_000)]  # 1 TW
Kind = Annotated[dm.PoolKind, Field(strict=False)]  # an enum is read from its text
Source = Annotated[dm.SignalSource, Field(strict=False)]


def _whole(v: Any) -> Any:
    """``8.0`` is the whole number 8 (as it always was); ``8.5``, ``true`` and ``"8"`` are not."""
    return int(v) if isinstance(v, float) and v.is_integer() else v


WHOLE = BeforeValidator(_whole)


class _Strict(BaseModel):
    # strict: `true` is not 1 and "0.9" is not a number; numbers must be finite.
    model_config = ConfigDict(
        extra="forbid", frozen=True, use_enum_values=False, strict=True, allow_inf_nan=False
    )

    @field_validator("*", mode="before")
    @classmethod
    def _written_number(cls, v: Any, info: ValidationInfo) -> Any:
        """A number that YAML 1.1 reads as text (unquoted ``1e3``, ``9e-1``: a
        :class:`PlainNumber`) is, in a number field, the number written, which then meets the
        field's checks (``1e3`` devices are the whole number 1000, ``1e-1`` devices are not);
        a text field keeps the text."""
        field = cls.model_fields.get(info.field_name or "")
        if isinstance(v, PlainNumber) and field is not None and field.annotation in (int, float):
            return v.number()
        return v


class PoolIn(_Strict):
    kind: Kind
    device_model: str = Field(min_length=1)
    devices: Annotated[int, WHOLE, Field(gt=0, le=100_000_000)]
    pflops_per_device: Annotated[float, Field(gt=0, le=1_000_000)]
    kw_per_device: Annotated[float, Field(gt=0, le=100_000)]
    idle_power_share: Share = 0.3


class PueIn(_Strict):
    pue_min: Annotated[float, Field(ge=1.0, le=3.0)] = 1.15
    pue_max: Annotated[float, Field(ge=1.0, le=3.0)] = 1.35
    t_free_c: Annotated[float, Field(ge=-50, le=50)] = 10.0
    t_max_c: Annotated[float, Field(ge=-50, le=60)] = 35.0


class AssetsIn(_Strict):
    wind_mw: MegaWatts = 0.0
    turbine_type: str = "E-126/4200"
    hub_height_m: Annotated[float, Field(gt=10, le=250)] = 100.0
    solar_mw: MegaWatts = 0.0
    solar_tilt_deg: Annotated[float, Field(ge=0, le=90)] = 30.0
    solar_azimuth_deg: Annotated[float, Field(ge=0, lt=360)] = 180.0
    battery_mwh: Annotated[float, Field(ge=0, le=100_000_000)] = 0.0
    battery_mw: MegaWatts = 0.0
    # no storage built returns less than a tenth; 1e-300 leaves the oracle's LP with nothing
    battery_rte: Annotated[float, Field(ge=0.1, le=1)] = 0.88
    contracted_green_mw: MegaWatts = 0.0


class ClimateIn(_Strict):
    t_mean_c: Annotated[float, Field(ge=-40, le=40)] = 10.0
    t_seasonal_amp_c: Annotated[float, Field(ge=0, le=40)] = 12.0
    t_diurnal_amp_c: Annotated[float, Field(ge=0, le=25)] = 5.0
    wind_mean_ms: Annotated[float, Field(gt=0, le=25)] = 7.0
    wind_weibull_k: Annotated[float, Field(ge=1.0, le=5.0)] = 2.0
    wind_ref_height_m: Annotated[float, Field(gt=0, le=250)] = 100.0
    solar_cf: Annotated[float, Field(gt=0, le=0.35)] = 0.16


class GridIn(_Strict):
    zone: str = Field(min_length=1)
    carbon: Source = dm.SignalSource.MODELLED
    carbon_file: str | None = None
    price: Source = dm.SignalSource.MODELLED
    price_file: str | None = None
    weather_file: str | None = None
    tou: str = "default"
    flat_price_per_mwh: Annotated[float, Field(ge=0, le=1_000_000_000)] = 500.0
    currency: str = Field(default="CNY", min_length=3, max_length=3)
    utc_offset_h: Annotated[float, Field(ge=-12, le=14)] = 8.0
    renewable_base_share: Share = 0.15
    wind_weight: Share = 0.2
    solar_weight: Share = 0.1


class PlannedIn(_Strict):
    name: str = Field(min_length=1)
    name_zh: str = ""
    kind: Kind
    cabinets: Annotated[int, WHOLE, Field(gt=0, le=100_000_000)]
    cabinet_kw_min: Annotated[float, Field(gt=0, le=10_000)]
    cabinet_kw_max: Annotated[float, Field(gt=0, le=10_000)]
    pflops: Annotated[float, Field(gt=0, le=1_000_000_000)]
    online: str = ""


class HubIn(_Strict):
    id: Identifier
    name: str = Field(min_length=1)
    name_zh: str = ""
    lat: Annotated[float, Field(ge=-90, le=90)]
    lon: Annotated[float, Field(ge=-180, le=180)]
    grid: GridIn
    pools: list[PoolIn] = Field(min_length=1)
    racks: Annotated[int, WHOLE, Field(ge=0, le=100_000_000)] = 0
    rack_kw: Annotated[float, Field(gt=0, le=10_000)] = 8.0
    assets: AssetsIn = AssetsIn()
    pue: PueIn = PueIn()
    climate: ClimateIn = ClimateIn()
    pue_target: Annotated[float, Field(ge=1.0, le=3.0)] = 1.25
    region: str = "west"
    planned: list[PlannedIn] = []


class RegionIn(_Strict):
    id: Identifier
    name: str = Field(min_length=1)
    name_zh: str = ""
    lat: Annotated[float, Field(ge=-90, le=90)]
    lon: Annotated[float, Field(ge=-180, le=180)]
    weight: Annotated[float, Field(gt=0, le=1_000_000_000)] = 1.0


class LinkIn(_Strict):
    a: Identifier
    b: Identifier
    latency_ms: Annotated[float, Field(gt=0, le=100_000)]
    bandwidth_gbps: Annotated[float, Field(gt=0, le=1_000_000_000)]
    modelled: bool = False


class NetworkIn(_Strict):
    route_factor: Annotated[float, Field(ge=1.0, le=5.0)] = 1.5
    us_per_km: Annotated[float, Field(gt=0, le=1_000)] = 5.0
    default_bandwidth_gbps: Annotated[float, Field(gt=0, le=1_000_000_000)] = 100.0
    inter_hub_target_ms: Annotated[float, Field(gt=0, le=100_000)] = 20.0


class TimeIn(_Strict):
    start: str = "2023-01-01T00:00:00Z"
    days: Annotated[int, WHOLE, Field(gt=0, le=3660)] = 365
    dt_h: float = 1.0

    @field_validator("start")
    @classmethod
    def _utc(cls, v: str) -> str:
        try:
            ts = datetime.fromisoformat(v.replace("Z", "+00:00"))
        except ValueError:
            msg = f"must be an ISO 8601 UTC time like 2023-01-01T00:00:00Z (got {v!r})"
            raise ValueError(msg) from None
        if ts.utcoffset() is None or ts.utcoffset().total_seconds() != 0:  # type: ignore[union-attr]
            raise ValueError(f"must be in UTC, ending in Z (got {v!r})")
        if not 1900 <= ts.year <= 2200:
            raise ValueError(f"must be a time between the years 1900 and 2200 (got {v!r})")
        if (ts.minute, ts.second, ts.microsecond) != (0, 0, 0):
            # the data files are hourly and the ledger's certificates cover UTC clock hours
            raise ValueError(f"must be on a whole UTC hour, like 2023-01-01T00:00:00Z (got {v!r})")
        return v

    @field_validator("dt_h")
    @classmethod
    def _dt(cls, v: float) -> float:
        if v not in (1.0, 0.5, 0.25):
            raise ValueError(f"must be 1, 0.5 or 0.25 hours (got {v})")
        return v


class ScenarioIn(_Strict):
    name: Identifier
    title: str = ""
    title_zh: str = ""
    description: str = ""
    seed: Annotated[int, WHOLE, Field(ge=0, le=2**63 - 1)] = 0
    time: TimeIn = TimeIn()
    network: NetworkIn = NetworkIn()
    hubs: list[HubIn] = Field(min_length=1)
    regions: list[RegionIn] = []
    links: list[LinkIn] = []


def to_domain(s: ScenarioIn) -> dm.Scenario:
    """Turn a validated scenario model into frozen domain objects."""

    def hub(h: HubIn) -> dm.Hub:
        return dm.Hub(
            id=h.id,
            name=h.name,
            name_zh=h.name_zh,
            lat=h.lat,
            lon=h.lon,
            grid=dm.Grid(**h.grid.model_dump()),
            pools=tuple(dm.Pool(**p.model_dump()) for p in h.pools),
            racks=h.racks,
            rack_kw=h.rack_kw,
            assets=dm.EnergyAssets(**h.assets.model_dump()),
            pue=dm.PueModel(**h.pue.model_dump()),
            climate=dm.Climate(**h.climate.model_dump()),
            pue_target=h.pue_target,
            region=h.region,
            planned=tuple(dm.PlannedCentre(**p.model_dump()) for p in h.planned),
        )

    return dm.Scenario(
        name=s.name,
        title=s.title,
        title_zh=s.title_zh,
        description=s.description,
        seed=s.seed,
        time=dm.TimeSpec(**s.time.model_dump()),
        network=dm.Network(**s.network.model_dump()),
        hubs=tuple(hub(h) for h in s.hubs),
        regions=tuple(dm.DemandRegion(**r.model_dump()) for r in s.regions),
        links=tuple(dm.Link(**lk.model_dump()) for lk in s.links),
    )


def model_at(loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """The pydantic model class that holds the field at ``loc`` (for key suggestions)."""
    cls: Any = ScenarioIn
    for part in loc[:-1]:
        if isinstance(part, int):
            continue
        fld = cls.model_fields.get(part) if isinstance(cls, type) else None
        if fld is None:
            return None
        ann = fld.annotation
        args = getattr(ann, "__args__", ())
        nxt = next(
            (a for a in (ann, *args) if isinstance(a, type) and issubclass(a, BaseModel)), None
        )
        if nxt is None:
            return None
        cls = nxt
    return cls if isinstance(cls, type) and issubclass(cls, BaseModel) else None
