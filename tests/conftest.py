"""Shared fixtures."""

from __future__ import annotations

import os
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """The shared real data files, read in place: ``$GREENDISPATCH_DATA`` or ``../shared/data``
    relative to the repository. Missing data is a failure, never a skip."""
    env = os.environ.get("GREENDISPATCH_DATA")
    path = Path(env) if env else Path(__file__).resolve().parents[1].parent / "shared" / "data"
    if not (path / "grid-2023").is_dir():
        pytest.fail(f"shared data folder not found at {path} (set GREENDISPATCH_DATA)")
    return path
