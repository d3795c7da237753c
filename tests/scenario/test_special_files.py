"""Files that are not regular text files, or far too large to be a scenario: named at once,
not read (``/dev/zero`` was read until the machine ran out of memory)."""

from __future__ import annotations

from pathlib import Path

import yaml

from tests.helpers import run_cli, small_scenario


def test_a_device_is_refused_as_a_scenario_trace_or_data_file(tmp_path, capsys, monkeypatch):
    code, _, err = run_cli(["scenario", "validate", "/dev/zero"], capsys, monkeypatch)
    assert code == 2 and "/dev/zero: is not a regular file" in err
    args = ["simulate", "--trace", "/dev/zero", "--trace-format", "gaia", "--days", "2",
            "--out", str(tmp_path / "o")]  # fmt: skip
    code, _, err = run_cli(args, capsys, monkeypatch)
    assert code == 2 and "/dev/zero: is not a regular file" in err
    d = small_scenario()
    d["hubs"][0]["grid"] |= {"carbon": "file", "carbon_file": "/dev/null"}
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(d), encoding="utf-8")
    code, _, err = run_cli(["scenario", "validate", str(path)], capsys, monkeypatch)
    assert code == 2 and "data file '/dev/null' is not a regular file" in err


def test_a_scenario_file_of_megabytes_is_refused_unread(tmp_path: Path, capsys, monkeypatch):
    path = tmp_path / "big.yaml"
    path.write_text("description: " + "a" * (3 * 2**20) + "\n", encoding="utf-8")
    code, _, err = run_cli(["scenario", "validate", str(path)], capsys, monkeypatch)
    assert code == 2 and "is 3.0 MiB; a scenario file is text of a few KB" in err
