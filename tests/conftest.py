"""Shared fixtures."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """The shared real data files, read in place: ``../shared/data`` relative to the repository.

    This file sits in ``tests/``, so the repository is ``parents[1]`` (a test module in
    ``tests/signals/`` would use ``parents[2]``).
    """
    path = Path(__file__).resolve().parents[1].parent / "shared" / "data"
    if not path.is_dir():
        pytest.skip(f"shared data directory not found at {path}")
    return path
