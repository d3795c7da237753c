"""Numbers written in scientific notation without a dot (``9e-1``, ``1e3``), which YAML 1.1 reads
as text, are the numbers they are written as in a number field, with every range still checked;
quoted numbers and text fields are unchanged."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tests.helpers import run_cli, small_scenario, write_yaml

POOL = "kw_per_device: 0.9"  # the first pool's line in small_scenario's YAML


def _scenario(tmp_path: Path, *swaps: tuple[str, str]) -> tuple[Path, str]:
    """small_scenario as YAML with the first occurrence of each ``old`` line text replaced."""
    path = write_yaml(tmp_path / "s.yaml", small_scenario())
    text = path.read_text(encoding="utf-8")
    for old, new in swaps:
        assert old in text, old
        text = text.replace(old, new, 1)
    path.write_text(text, encoding="utf-8")
    return path, text


def _line(text: str, fragment: str) -> int:
    return next(i for i, row in enumerate(text.splitlines(), 1) if fragment in row)


def test_scientific_notation_is_read_as_the_number_and_exported_as_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    path, _ = _scenario(
        tmp_path,
        (POOL, "kw_per_device: 9e-1"),
        ("devices: 100", "devices: 1e3"),  # a whole number: 1000
        ("wind_mw: 10", "wind_mw: 1.5e1"),  # a dot but no exponent sign: text to YAML 1.1
        ("solar_mw: 5", "solar_mw: 5\n    battery_rte: 9E-1"),
        ("lat: 39.9", "lat: 399e-1"),
        ("days: 1", "days: 2e0"),
        ("device_model: acc", "device_model: 1e3"),  # a text field keeps the text
    )
    code, out, err = run_cli(["scenario", "validate", str(path)], capsys, monkeypatch)
    assert code == 0, err
    assert "2 days" in out
    code, exported, err = run_cli(["scenario", "export", str(path)], capsys, monkeypatch)
    assert code == 0, err
    data = yaml.safe_load(exported)
    pool = data["hubs"][0]["pools"][0]
    assert (pool["kw_per_device"], pool["devices"], pool["device_model"]) == (0.9, 1000, "1e3")
    assets = data["hubs"][0]["assets"]
    assert (assets["wind_mw"], assets["battery_rte"]) == (15.0, 0.9)
    assert (data["regions"][0]["lat"], data["time"]["days"]) == (39.9, 2)
    again = tmp_path / "again.yaml"
    again.write_text(exported, encoding="utf-8")
    code, exported_again, err = run_cli(["scenario", "export", str(again)], capsys, monkeypatch)
    assert code == 0, err
    assert exported_again == exported


# (line text replaced, its replacement, the message after "s.yaml:LINE: ")
OUT_OF_RANGE = [
    (
        "solar_mw: 5",
        "solar_mw: 5\n    battery_rte: 1e-300",
        "hubs[0].assets.battery_rte: must be >= 0.1 (got 1e-300)",
    ),
    (
        "lon: 116.4",
        "lon: 116.4\n  weight: 1e308",
        "regions[0].weight: must be <= 1000000000 (got 1e308)",
    ),
    (
        "devices: 100",
        "devices: 1e-1",
        "hubs[0].pools[0].devices: must be a whole number (got 1e-1)",
    ),
    ("devices: 100", "devices: 1e9", "hubs[0].pools[0].devices: must be <= 100000000 (got 1e9)"),
    ("days: 1", "days: 1e400", "time.days: must be a finite number (got 1e400)"),
    (
        POOL,
        'kw_per_device: "9e-1"',  # quoted: text, as before
        "hubs[0].pools[0].kw_per_device: must be a number (got '9e-1')",
    ),
]


@pytest.mark.parametrize(
    ("old", "new", "message"),
    OUT_OF_RANGE,
    ids=["tiny-rte", "huge-weight", "tenth-device", "huge-devices", "overflow", "quoted"],
)
def test_scientific_notation_meets_the_fields_checks(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    old: str,
    new: str,
    message: str,
) -> None:
    path, text = _scenario(tmp_path, (old, new))
    code, _, err = run_cli(["scenario", "validate", str(path)], capsys, monkeypatch)
    assert code == 2, err
    line = _line(text, new.splitlines()[-1].strip())
    assert err.splitlines() == [f"error: {path}:{line}: {message}"]
