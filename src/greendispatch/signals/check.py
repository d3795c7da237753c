"""Checks of a scenario against what the signal models know: provinces, tariffs, turbines and
data files. Run before building signals, and by ``greendispatch scenario validate``."""

from __future__ import annotations

from pathlib import Path

from greendispatch.domain import SignalSource
from greendispatch.errors import Problem
from greendispatch.scenario.hints import turbine_hint, zone_hint
from greendispatch.scenario.loader import LoadedScenario, data_file_problems, suggest
from greendispatch.scenario.yamlmap import Loc, format_loc, line_of
from greendispatch.signals.carbon import load_provincial_factors
from greendispatch.signals.registry import TOU_PRESETS
from greendispatch.signals.wind import available_turbine_types


def signal_input_problems(loaded: LoadedScenario, data_dir: Path | None) -> list[Problem]:
    """One problem per unknown zone, tariff preset or turbine type, and per missing data file."""
    out: list[Problem] = []

    def add(loc: Loc, msg: str) -> None:
        out.append(Problem(loaded.source, line_of(loaded.lines, loc), format_loc(loc), msg))

    provinces = {c: (f.name, f.name_zh) for c, f in load_provincial_factors().items()}
    presets = sorted(TOU_PRESETS)
    turbines: list[str] | None = None
    for i, h in enumerate(loaded.scenario.hubs):
        g, base = h.grid, ("hubs", i, "grid")
        if g.carbon is SignalSource.MODELLED and g.zone not in provinces:
            add(
                (*base, "zone"),
                f"unknown zone '{g.zone}' for a modelled grid: expected a Chinese province code "
                f"such as CN-NM{zone_hint(g.zone, provinces)}",
            )
        if g.price is SignalSource.MODELLED and g.tou not in TOU_PRESETS:
            add(
                (*base, "tou"),
                f"unknown time-of-use preset '{g.tou}' (expected one of {', '.join(presets)})"
                f"{suggest(g.tou, presets)}",
            )
        # The wind curve is computed for every hub, with wind or not.
        turbines = turbines or available_turbine_types()
        t = h.assets.turbine_type
        if t not in turbines:
            add(
                ("hubs", i, "assets", "turbine_type"),
                f"unknown turbine type '{t}' (not in windpowerlib's turbine library)"
                f"{turbine_hint(t, turbines)}",
            )
    # Hubs in one province draw on one modelled grid: one mix (build.py shares its series).
    first: dict[str, tuple[int, tuple[float, float, float]]] = {}
    for i, h in enumerate(loaded.scenario.hubs):
        g = h.grid
        if g.carbon is not SignalSource.MODELLED or g.zone not in provinces:
            continue
        mix = (g.renewable_base_share, g.wind_weight, g.solar_weight)
        j, seen = first.setdefault(g.zone, (i, mix))
        if mix != seen:
            other = loaded.scenario.hubs[j].id
            add(
                ("hubs", i, "grid"),
                f"hub '{h.id}' and hub '{other}' are both on the modelled {g.zone} grid, so they "
                "must share one mix: renewable_base_share, wind_weight, solar_weight "
                f"{', '.join(f'{v:g}' for v in mix)} here, {', '.join(f'{v:g}' for v in seen)} "
                f"at '{other}' (copy that hub's three values)",
            )
    return out + data_file_problems(loaded, data_dir)
