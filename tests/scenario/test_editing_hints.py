"""What a person editing a scenario is told: the docs' examples, which must stay valid."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from greendispatch.scenario.loader import builtin_names, load_scenario
from tests.helpers import DATA_DIR, run_cli

DOCS = Path(__file__).resolve().parents[2] / "docs" / "scenarios.md"


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
