"""Write domain scenarios back to YAML that :func:`load_scenario` reads unchanged."""

from __future__ import annotations

import dataclasses
from enum import Enum
from typing import Any

import yaml

from greendispatch.domain import Scenario


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def scenario_to_dict(scenario: Scenario) -> dict[str, Any]:
    """Plain nested dict of a scenario (enums as their values, tuples as lists)."""
    return _plain(scenario)


def dump_scenario(scenario: Scenario) -> str:
    """YAML text of a scenario, every field written out."""
    return yaml.safe_dump(
        scenario_to_dict(scenario), allow_unicode=True, sort_keys=False, width=100
    )
