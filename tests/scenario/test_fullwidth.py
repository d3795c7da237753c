"""Full-width punctuation typed with a Chinese input method: blamed only where YAML needs ASCII,
never inside Chinese text, and a rewrite suggested only when it is right."""

from __future__ import annotations

from pathlib import Path

import pytest

from greendispatch.scenario.fullwidth import fullwidth_fix
from greendispatch.scenario.loader import builtin_text
from tests.helpers import run_cli

_HUB = """\
name: fw
hubs:
  - id: west
    name: West
    name_zh: 西部集群（一期）
    lat: 40.4
    lon: 111.8
    grid: {zone: CN-NM}
    pools:
      - {kind: ai, device_model: acc, devices: 100, pflops_per_device: 0.3, kw_per_device: 0.9}
"""


def _validate(
    text: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], mp: pytest.MonkeyPatch
) -> tuple[int, str]:
    path = tmp_path / "s.yaml"
    path.write_text(text, encoding="utf-8")
    code, _, err = run_cli(["scenario", "validate", str(path)], capsys, mp)
    assert "Traceback" not in err
    return code, err


def _suggested(err: str) -> str:
    """The line an error message says to write."""
    return err.split(": write '", 1)[1].rsplit("' in ASCII", 1)[0]


# Each line, and what it becomes with the characters where YAML needs ASCII in ASCII (None:
# it has none). Chinese punctuation inside text values and comments is valid and stays.
LINES = {
    "    name_zh: 和林格尔集群（呼和浩特）": None,
    "title_zh: 东数西算：和林格尔（试点），第一期": None,
    "  - {id: bj, name_zh: 北京，上海, lat: 39.9}": None,
    "    device_model: Ａ１００": None,
    "    lat: 40.38   # 约（approx），见下": None,
    "    description: \u3000\u3000首期工程。": None,
    # a key's colon, flow and list punctuation, numbers, keys, the space after a colon
    "name：West": "name: West",
    "    assets: {wind_mw：50，solar_mw: 10}": "    assets: {wind_mw: 50, solar_mw: 10}",
    "  - {id: bj, name_zh: 北京，lat: 39.9}": "  - {id: bj, name_zh: 北京, lat: 39.9}",
    "    grid：｛zone: CN-NM｝": "    grid: {zone: CN-NM}",
    "    lat: ４０．３８": "    lat: 40.38",
    "－ id: x": "- id: x",
    "    ｗｉｎｄ_mw: 5": "    wind_mw: 5",
    "    lat:\u300040.38": "    lat: 40.38",
    "  - {id: x,\u3000name_zh: 北京}": "  - {id: x, name_zh: 北京}",
}


@pytest.mark.parametrize("line", LINES)
def test_only_characters_where_yaml_needs_ascii_are_blamed(line: str) -> None:
    fixed = LINES[line]
    fix = fullwidth_fix(line)
    if fixed is None:
        assert fix is None, fix
    else:
        wide = [ch for ch in dict.fromkeys(line) if ch == "\u3000" or "\uff01" <= ch <= "\uff5e"]
        assert fix == ([ch for ch in wide if ch not in fixed], fixed)


def test_chinese_text_on_the_line_before_a_syntax_error_is_not_blamed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # the review's case: china-hubs with the line after Horinger's name_zh made invalid
    rows = builtin_text("china-hubs").splitlines()
    n = next(i for i, r in enumerate(rows, 1) if "name_zh: 和林格尔集群（呼和浩特）" in r) + 1
    assert rows[n - 1].strip().startswith("lat: 40.38")
    rows[n - 1] = "    lat: 40.38: bad"
    code, err = _validate("\n".join(rows) + "\n", tmp_path, capsys, monkeypatch)
    assert code == 2
    assert err.endswith(f"s.yaml:{n}: not valid YAML: mapping values are not allowed here\n"), err


def test_the_error_line_is_looked_at_before_the_line_above(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # line 11 reads (an odd key), line 12 is where the file breaks
    text = (
        _HUB
        + "    assets: {wind_mw：50, solar_mw: 30}\n"
        + "    pue: {pue_min: 1.1，pue_max: 1.3}\n"
    )
    code, err = _validate(text, tmp_path, capsys, monkeypatch)
    assert code == 2
    assert (
        "s.yaml:12: not valid YAML: expected ',' or '}', but got ':'; line 12 contains the "
        "full-width '，' (fullwidth comma, U+FF0C): write 'pue: {pue_min: 1.1, pue_max: 1.3}' in "
        "ASCII\n" in err
    ), err


@pytest.mark.parametrize(
    ("assets", "named"),
    [
        # a rewrite is offered, and the file with it validates (named: None)
        ("    assets: {wind_mw：50，solar_mw: 10}\n", None),  # unknown key 'wind_mw：50，solar_mw'
        ("    assets: {wind_mw: 50，solar_mw: 10}\n", None),  # a syntax error
        ("    assets:\n      wind_mw：50\n", None),  # text where a mapping belongs
        # two keys on one line of a block mapping: no one-line rewrite is valid YAML
        (
            "    assets:\n      wind_mw：50，solar_mw: 10\n",
            "s.yaml:12: hubs[0].assets.wind_mw：50，solar_mw: unknown key 'wind_mw：50，solar_mw'; "
            "line 12 contains the full-width '：' (fullwidth colon, U+FF1A), '，' (fullwidth "
            "comma, U+FF0C), which YAML does not read as ':', ',': type those in ASCII\n",
        ),
        (
            "    assets:\n      wind_mw：50，solar_mw：10\n",
            "s.yaml:11: hubs[0].assets: must be a mapping of keys "
            "(got 'wind_mw：50，solar_mw：10'); it contains the full-width '：' (fullwidth "
            "colon, U+FF1A), '，' (fullwidth comma, U+FF0C), which YAML does not read as ':', "
            "',': type those in ASCII\n",
        ),
        # 50.5 devices would still be wrong
        (
            "      - {kind: ai, device_model: b, devices: ５０．５, pflops_per_device: 1, "
            "kw_per_device: 1}\n",
            "s.yaml:11: hubs[0].pools[1].devices: must be a whole number (got '５０．５'); it "
            "contains the full-width '５' (fullwidth digit five, U+FF15), '０' (fullwidth digit "
            "zero, U+FF10), '．' (fullwidth full stop, U+FF0E), which YAML does not read as '5', "
            "'0', '.': type those in ASCII\n",
        ),
    ],
)
def test_a_rewrite_is_suggested_only_when_the_file_then_validates(
    assets: str,
    named: str | None,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    code, err = _validate(_HUB + assets, tmp_path, capsys, monkeypatch)
    assert code == 2
    if named is not None:  # the characters are only named
        assert named in err and ": write '" not in err, err
        return
    rows = (_HUB + assets).splitlines()  # the bad line is the last, and keeps its indentation
    rows[-1] = rows[-1][: len(rows[-1]) - len(rows[-1].lstrip())] + _suggested(err)
    code, err = _validate("\n".join(rows) + "\n", tmp_path, capsys, monkeypatch)
    assert code == 0, err


@pytest.mark.parametrize(
    ("edit", "hint"),
    [
        (("kind: ai", "kind: ａｉ"), "write 'ai' in ASCII"),
        (("id: west", "id: ｗｅｓｔ"), "write 'west' in ASCII"),
        # a Chinese name in an identifier: its parentheses are not the problem
        (("name: fw", "name: 东数西算（一期）"), "; a Chinese name goes in title_zh\n"),
    ],
)
def test_values_that_must_be_ascii(
    edit: tuple[str, str],
    hint: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    code, err = _validate(_HUB.replace(*edit, 1), tmp_path, capsys, monkeypatch)
    assert code == 2
    assert err.count("error:") == 1 and hint in err, err
    if "title_zh" in hint:
        assert "full-width" not in err
