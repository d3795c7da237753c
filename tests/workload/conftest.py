"""Fixtures shared by the workload tests: the built-in scenarios' domain objects."""

from __future__ import annotations

import pytest

from greendispatch.domain import Scenario
from greendispatch.scenario.loader import load_scenario


@pytest.fixture(scope="module")
def china() -> Scenario:
    return load_scenario("china-hubs").scenario


@pytest.fixture(scope="module")
def global16() -> Scenario:
    return load_scenario("global-16").scenario
