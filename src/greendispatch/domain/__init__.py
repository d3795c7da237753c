"""Domain objects: frozen dataclasses with units in their names."""

from greendispatch.domain.model import (
    Climate,
    DemandRegion,
    EnergyAssets,
    Grid,
    Hub,
    Link,
    Network,
    PlannedCentre,
    Pool,
    PoolKind,
    PueModel,
    Scenario,
    SignalSource,
    TimeSpec,
    great_circle_km,
)

__all__ = [
    "Climate",
    "DemandRegion",
    "EnergyAssets",
    "Grid",
    "Hub",
    "Link",
    "Network",
    "PlannedCentre",
    "Pool",
    "PoolKind",
    "PueModel",
    "Scenario",
    "SignalSource",
    "TimeSpec",
    "great_circle_km",
]
