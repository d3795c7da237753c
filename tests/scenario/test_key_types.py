"""A key that YAML reads as something other than text (``1:``, ``~:``, ``yes:``, ``[1, 2]:``) is
reported at its own line, as written, in the project's words, at the top or deeper down."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import run_cli, small_scenario, write_yaml


def _validate(
    tmp_path: Path,
    text: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> tuple[Path, int, list[str]]:
    path = tmp_path / "s.yaml"
    path.write_text(text, encoding="utf-8")
    code, _, err = run_cli(["scenario", "validate", str(path)], capsys, monkeypatch)
    assert "Traceback" not in err
    return path, code, err.splitlines()


def test_top_level_keys_that_are_not_text_are_named_at_their_lines(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    valid = write_yaml(tmp_path / "valid.yaml", small_scenario()).read_text(encoding="utf-8")
    rows = valid.splitlines()
    text = "\n".join([*rows[:2], "1: 1", "~: 1", *rows[2:]]) + "\n"  # after name and title
    path, code, err = _validate(tmp_path, text, capsys, monkeypatch)
    assert code == 2
    assert err == [
        f"error: {path}:3: keys must be text; got 1",
        f"error: {path}:4: keys must be text; got ~",
    ]


def test_keys_that_are_not_text_deeper_down_are_named_with_their_mapping(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    valid = write_yaml(tmp_path / "valid.yaml", small_scenario()).read_text(encoding="utf-8")
    text = valid.replace("    devices: 100\n", "    devices: 100\n    yes: 3\n", 1)
    text = text.replace("  lon: 116.4\n", "  lon: 116.4\n  [1, 2]: 3\n", 1)
    path, code, err = _validate(tmp_path, text, capsys, monkeypatch)
    rows = text.splitlines()
    seq, yes = rows.index("  [1, 2]: 3") + 1, rows.index("    yes: 3") + 1
    assert code == 2
    assert err == [
        f"error: {path}:{seq}: regions[0]: keys must be text; got [1, 2]",
        f"error: {path}:{yes}: hubs[0].pools[0]: keys must be text; got yes",
    ]
