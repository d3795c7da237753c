"""Named presets that scenario files refer to (dict registries, no if/elif chains)."""

from __future__ import annotations

from greendispatch.signals.tariff import DEFAULT_TOU, SOLAR_VALLEY_TOU, TouTable

TOU_PRESETS: dict[str, TouTable] = {
    "default": DEFAULT_TOU,
    "solar-valley": SOLAR_VALLEY_TOU,
}
