"""Build every hourly signal of a scenario on its time grid: the orchestrator of the models.

Arrays have shape ``(n_hubs, n_slots)``. Each hub's :class:`HubSignalMeta` says, per signal,
whether it was read from a file (and which) or modelled (and how).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from greendispatch.domain import Hub, Scenario, SignalSource
from greendispatch.errors import ModelError, Problem, ScenarioError
from greendispatch.scenario.loader import LoadedScenario, resolve_data_file
from greendispatch.scenario.yamlmap import Loc, format_loc, line_of
from greendispatch.signals.carbon import (
    PROVINCIAL_FACTORS_CITATION,
    load_provincial_factors,
    modelled_intensity,
    modelled_renewable_share,
)
from greendispatch.signals.check import signal_input_problems
from greendispatch.signals.climate import modelled_temperature
from greendispatch.signals.pue import pue_from_temperature
from greendispatch.signals.readers import (
    read_electricitymaps_csv,
    read_openmeteo_json,
    read_price_csv,
)
from greendispatch.signals.registry import TOU_PRESETS
from greendispatch.signals.solar import calibrate_cloud_to_cf, solar_pu
from greendispatch.signals.tariff import tou_price
from greendispatch.signals.timegrid import TimeGrid
from greendispatch.signals.wind import modelled_wind_speed, wind_pu

SIGNAL_NAMES = (
    "ci_g_per_kwh",
    "ci_lca_g_per_kwh",
    "renewable_share",
    "low_carbon_share",
    "price_per_mwh",
    "temp_c",
    "solar_pu",
    "wind_pu",
    "pue",
)

# Random streams per hub: (scenario seed, hub index, stream) -> independent generators.
_STREAM = {"temp": 1, "wind": 2, "cloud": 3}


@dataclass(frozen=True)
class HubSignalMeta:
    """Where each of a hub's signals came from: ``file: <path>`` or ``modelled: <how>``."""

    hub_id: str
    sources: dict[str, str]
    currency: str
    notes: tuple[str, ...] = ()

    @property
    def modelled(self) -> tuple[str, ...]:
        return tuple(k for k, v in self.sources.items() if v.startswith("modelled"))


@dataclass(frozen=True)
class Signals:
    """Hourly (or sub-hourly) signals of every hub on one time grid.

    ``ci_g_per_kwh`` is the location-based direct (operational) grid intensity used for carbon
    accounting; ``ci_lca_g_per_kwh`` the life-cycle one where known (else equal to the direct).
    Shares are fractions 0..1; ``solar_pu``/``wind_pu`` are AC output per MW of nameplate.
    """

    grid: TimeGrid
    hub_ids: tuple[str, ...]
    ci_g_per_kwh: np.ndarray
    ci_lca_g_per_kwh: np.ndarray
    renewable_share: np.ndarray
    low_carbon_share: np.ndarray
    price_per_mwh: np.ndarray
    temp_c: np.ndarray
    solar_pu: np.ndarray
    wind_pu: np.ndarray
    pue: np.ndarray
    meta: tuple[HubSignalMeta, ...] = field(default=())

    def hub_index(self, hub_id: str) -> int:
        return self.hub_ids.index(hub_id)

    def array(self, name: str) -> np.ndarray:
        if name not in SIGNAL_NAMES:
            raise KeyError(f"unknown signal '{name}' (known: {', '.join(SIGNAL_NAMES)})")
        return getattr(self, name)


def scenario_grid(scenario: Scenario) -> TimeGrid:
    """The scenario's time grid from its ``time`` block."""
    t = scenario.time
    start = datetime.fromisoformat(t.start.replace("Z", "+00:00"))
    return TimeGrid(start, round(t.days * 24 / t.dt_h), t.dt_h)


def build_signals(loaded: LoadedScenario, data_dir: Path | None = None) -> Signals:
    """Build all signals of a loaded scenario; data files are read from ``data_dir``.

    Raises ScenarioError if a named data file is missing, DataFileError if one is malformed.
    """
    problems = signal_input_problems(loaded, data_dir)
    if problems:
        raise ScenarioError(problems)
    scenario = loaded.scenario
    grid = scenario_grid(scenario)
    provinces: dict[str, tuple[np.ndarray, np.ndarray, str]] = {}
    per_hub = [
        _hub_signals(i, hub, scenario.seed, grid, loaded, data_dir, provinces)
        for i, hub in enumerate(scenario.hubs)
    ]
    arrays = {name: np.vstack([h[0][name] for h in per_hub]) for name in SIGNAL_NAMES}
    return Signals(
        grid=grid,
        hub_ids=tuple(h.id for h in scenario.hubs),
        meta=tuple(h[1] for h in per_hub),
        **arrays,
    )


def climate_grid(grid: TimeGrid) -> tuple[TimeGrid, int]:
    """The whole calendar years that cover ``grid``, and the slot offset of ``grid`` in them.

    Modelled weather is drawn over whole years (so that a short scenario sees the same weather
    as the first days of a long one, and the cloud model meets its annual capacity factor).
    """
    y0 = datetime(grid.start.year, 1, 1, tzinfo=UTC)
    end = grid.end
    y1 = datetime(end.year, 1, 1, tzinfo=UTC)
    if end > y1:
        y1 = datetime(end.year + 1, 1, 1, tzinfo=UTC)
    per_slot_s = grid.dt_h * 3600
    offset = round((grid.start - y0).total_seconds() / per_slot_s)
    return TimeGrid(y0, round((y1 - y0).total_seconds() / per_slot_s), grid.dt_h), offset


def _modelled_weather(
    hub: Hub,
    grid: TimeGrid,
    rng: Callable[[str], np.random.Generator],
    loaded: LoadedScenario,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Temperature (C), cloud cover (%) and wind speed (m/s at the climate's reference height),
    drawn from the hub's climate normals over the whole years that cover ``grid``
    (:func:`climate_grid`)."""
    c, a = hub.climate, hub.assets
    year_grid, _ = climate_grid(grid)
    temp = modelled_temperature(
        year_grid,
        rng("temp"),
        lat_deg=hub.lat,
        lon_deg=hub.lon,
        t_mean_c=c.t_mean_c,
        seasonal_amp_c=c.t_seasonal_amp_c,
        diurnal_amp_c=c.t_diurnal_amp_c,
    )
    try:
        cloud = calibrate_cloud_to_cf(
            year_grid,
            hub.lat,
            hub.lon,
            a.solar_tilt_deg,
            c.solar_cf,
            rng("cloud"),
            azimuth_deg=a.solar_azimuth_deg,
            temp_c=temp,
        )
    except ModelError as exc:
        i = loaded.scenario.hubs.index(hub)
        loc: Loc = ("hubs", i, "climate", "solar_cf")
        raise ScenarioError(
            Problem(loaded.source, line_of(loaded.lines, loc), format_loc(loc), str(exc))
        ) from None
    wind_ms = modelled_wind_speed(
        year_grid,
        rng("wind"),
        mean_ms=c.wind_mean_ms,
        weibull_k=c.wind_weibull_k,
        ref_height_m=c.wind_ref_height_m,
        lon_deg=hub.lon,
        lat_deg=hub.lat,
    )
    return temp, cloud, wind_ms


def _hub_signals(
    index: int,
    hub: Hub,
    seed: int,
    grid: TimeGrid,
    loaded: LoadedScenario,
    data_dir: Path | None,
    provinces: dict[str, tuple[np.ndarray, np.ndarray, str]],
) -> tuple[dict[str, np.ndarray], HubSignalMeta]:
    """One hub's signals. ``provinces`` holds the modelled grid of each province met so far
    (zone -> intensity, renewable share, the hub whose weather shaped it): hubs on one
    provincial grid (one mix: checked by ``signal_input_problems``) share its hourly intensity,
    shaped by the first such hub's weather."""
    g, c, a = hub.grid, hub.climate, hub.assets

    def rng(stream: str) -> np.random.Generator:
        return np.random.default_rng([seed, index, _STREAM[stream]])

    def path(rel: str) -> Path:
        return resolve_data_file(rel, loaded, data_dir)

    src: dict[str, str] = {}
    notes: list[str] = []
    out: dict[str, np.ndarray] = {}

    # Weather: temperature, cloud, wind speed at a reference height.
    # Modelled weather covers whole years (wgrid); ``cut`` takes the scenario's slots from it.
    wgrid, cut = grid, slice(None)
    if g.weather_file:
        w = read_openmeteo_json(path(g.weather_file), grid)
        notes += w.report.messages()
        temp, cloud, wind_ms, ref_h = w.temp_c, w.cloud_pct, w.wind_ms_10m, 10.0
        src["temp_c"] = f"file: {g.weather_file}"
        src["solar_pu"] = f"modelled: pvlib clear sky x cloud cover from {g.weather_file}"
        src["wind_pu"] = f"modelled: {a.turbine_type} curve, 10 m wind from {g.weather_file}"
    else:
        temp, cloud, wind_ms = _modelled_weather(hub, grid, rng, loaded)
        wgrid, off = climate_grid(grid)
        cut = slice(off, off + grid.n_slots)
        ref_h = c.wind_ref_height_m
        src["temp_c"] = "modelled: climate normals + seeded weather noise"
        src["solar_pu"] = f"modelled: pvlib clear sky x seeded cloud, calibrated to CF {c.solar_cf}"
        src["wind_pu"] = (
            f"modelled: {a.turbine_type} curve, seeded Weibull wind "
            f"(mean {c.wind_mean_ms} m/s at {ref_h:g} m)"
        )
    solar_year = solar_pu(
        wgrid,
        hub.lat,
        hub.lon,
        a.solar_tilt_deg,
        a.solar_azimuth_deg,
        cloud_pct=cloud,
        temp_c=temp,
    )
    wind_year = wind_pu(wind_ms, ref_h, a.hub_height_m, a.turbine_type)
    temp = temp[cut]
    out["temp_c"] = temp
    out["solar_pu"] = solar_year[cut]
    out["wind_pu"] = wind_year[cut]
    out["pue"] = pue_from_temperature(
        temp,
        pue_min=hub.pue.pue_min,
        pue_max=hub.pue.pue_max,
        t_free_c=hub.pue.t_free_c,
        t_max_c=hub.pue.t_max_c,
    )
    src["pue"] = "modelled: free cooling from outdoor temperature"

    # Grid carbon.
    if g.carbon is SignalSource.FILE and g.carbon_file:
        em = read_electricitymaps_csv(path(g.carbon_file), grid)
        notes += em.report.messages()
        out["ci_g_per_kwh"] = em.ci_direct_g_per_kwh
        out["ci_lca_g_per_kwh"] = em.ci_lca_g_per_kwh
        out["renewable_share"] = em.renewable_share
        out["low_carbon_share"] = em.low_carbon_share
        src["ci_g_per_kwh"] = f"file: {g.carbon_file} (Electricity Maps, direct)"
        src["renewable_share"] = f"file: {g.carbon_file}"
    else:
        factor = load_provincial_factors()[g.zone]
        key = g.zone
        if key not in provinces:
            # Shaped over the whole years of modelled weather, so the official factor is the
            # annual mean and a short scenario sees its own season (with a weather file, over
            # the file's period).
            share = modelled_renewable_share(
                base_share=g.renewable_base_share,
                wind_pu=wind_year,
                solar_pu=solar_year,
                wind_weight=g.wind_weight,
                solar_weight=g.solar_weight,
            )
            provinces[key] = (modelled_intensity(factor.g_per_kwh, share)[cut], share[cut], hub.id)
        ci, share, shaped_by = provinces[key]
        out["ci_g_per_kwh"] = ci
        out["ci_lca_g_per_kwh"] = ci
        out["renewable_share"] = share
        out["low_carbon_share"] = share
        by = "" if shaped_by == hub.id else f", the provincial grid shared with hub {shaped_by}"
        src["ci_g_per_kwh"] = (
            f"modelled: annual mean {factor.g_per_kwh} g/kWh ({factor.name}, official 2023 "
            f"factor) shaped by hourly renewable share{by}"
        )
        src["renewable_share"] = "modelled: base share + regional wind and solar" + (
            "" if shaped_by == hub.id else f" (the weather at hub {shaped_by})"
        )
        notes.append(PROVINCIAL_FACTORS_CITATION)

    # Price.
    if g.price is SignalSource.FILE and g.price_file:
        pr = read_price_csv(path(g.price_file), grid)
        notes += pr.report.messages()
        out["price_per_mwh"] = pr.price_per_mwh
        src["price_per_mwh"] = f"file: {g.price_file}"
    else:
        table = dataclasses.replace(
            TOU_PRESETS[g.tou], flat_price_per_mwh=g.flat_price_per_mwh, currency=g.currency
        )
        out["price_per_mwh"] = tou_price(grid, table, utc_offset_h=g.utc_offset_h)
        src["price_per_mwh"] = (
            f"modelled: time-of-use '{g.tou}', flat {g.flat_price_per_mwh:g} {g.currency}/MWh"
        )
    return out, HubSignalMeta(hub.id, src, g.currency, tuple(notes))
