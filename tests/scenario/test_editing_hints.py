"""What a person editing a scenario is told: the turbine list, a warning for a battery that can
never charge, and the docs' examples that must stay valid."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from greendispatch.scenario.loader import builtin_names, load_scenario
from greendispatch.signals.wind import available_turbine_types
from tests.helpers import DATA_DIR, run_cli, small_scenario, write_yaml

DOCS = Path(__file__).resolve().parents[2] / "docs" / "scenarios.md"


def test_turbines_command_lists_every_valid_type_with_its_size(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out, err = run_cli(["scenario", "turbines"], capsys, monkeypatch)
    assert code == 0, err
    rows = [line.split() for line in out.splitlines()]
    assert [r[0] for r in rows] == available_turbine_types()
    assert ["E-141/4200", "141", "m", "4.2", "MW"] in rows
    assert ["V100/1800/GS", "100", "m", "1.8", "MW"] in rows


def test_a_battery_with_nothing_to_charge_it_is_a_warning(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    data = small_scenario()  # hub 0 (west) has wind, solar and a battery; hub 1 (east) neither
    data["hubs"][1]["assets"] = {"contracted_green_mw": 5, "battery_mwh": 100, "battery_mw": 25}
    path = write_yaml(tmp_path / "battery.yaml", data)
    line = next(
        i
        for i, text in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if "battery_mwh: 100" in text
    )
    expected = (
        f"warning: {path}:{line}: hubs[1].assets.battery_mwh: hub 'east' has a 100 MWh battery "
        "but no own wind or solar (wind_mw and solar_mw are 0), and batteries charge only from "
        "those: it is never charged; give the hub wind_mw or solar_mw, or run simulate with "
        "--grid-charge to charge it from the grid"
    )
    for command in (["validate"], ["show"], ["show", "--json"]):
        code, out, err = run_cli(["scenario", *command, str(path)], capsys, monkeypatch)
        assert code == 0, err
        assert [ln for ln in err.splitlines() if ln.startswith("warning")] == [expected], command
    assert out.startswith("{")  # --json: stdout is still only the JSON
    code, out, err = run_cli(["scenario", "validate", str(path)], capsys, monkeypatch)
    assert out.startswith("ok: ")


def test_a_battery_charged_by_own_wind_or_solar_is_no_warning(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    data = small_scenario()
    data["hubs"][0]["assets"] = {"solar_mw": 5, "battery_mwh": 4, "battery_mw": 1}
    path = write_yaml(tmp_path / "ok.yaml", data)
    code, _, err = run_cli(["scenario", "validate", str(path)], capsys, monkeypatch)
    assert code == 0 and "warning" not in err


def _yaml_block_after(heading: str) -> str:
    text = DOCS.read_text(encoding="utf-8")
    section = text[text.index(heading) :]
    match = re.search(r"```yaml\n(.*?)```", section, re.S)
    assert match is not None, heading
    return match.group(1)


def test_the_docs_examples_validate(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for heading in ("## Minimal example", "## A fuller example"):
        path = tmp_path / "example.yaml"
        path.write_text(_yaml_block_after(heading), encoding="utf-8")
        args = ["scenario", "validate", str(path), "--data-dir", str(DATA_DIR)]
        code, out, err = run_cli(args, capsys, monkeypatch)
        assert code == 0, (heading, err)
        assert out.startswith("ok: ") and err == "", heading


def test_every_builtin_prices_in_one_currency() -> None:
    for name in builtin_names():
        hubs = load_scenario(name).scenario.hubs
        assert len({h.grid.currency for h in hubs}) == 1, name
