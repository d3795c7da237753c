"""Each kind of bad scenario gives exactly one clear message naming file:line and field, exit 2."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from greendispatch.scenario.loader import builtin_text
from tests.helpers import run_cli, small_scenario, write_yaml

Mutation = Callable[[dict[str, Any], Path], None]


def _set(*path: Any, value: Any) -> Mutation:
    def mutate(d: dict[str, Any], _tmp: Path) -> None:
        node: Any = d
        for p in path[:-1]:
            node = node[p]
        node[path[-1]] = value

    return mutate


def _delete(*path: Any) -> Mutation:
    def mutate(d: dict[str, Any], _tmp: Path) -> None:
        node: Any = d
        for p in path[:-1]:
            node = node[p]
        del node[path[-1]]

    return mutate


def _rename_key(path: tuple[Any, ...], old: str, new: str) -> Mutation:
    def mutate(d: dict[str, Any], _tmp: Path) -> None:
        node: Any = d
        for p in path:
            node = node[p]
        node[new] = node.pop(old)

    return mutate


def _carbon_file(content: str) -> Mutation:
    def mutate(d: dict[str, Any], tmp: Path) -> None:
        (tmp / "grid.csv").write_text(content, encoding="utf-8")
        d["hubs"][0]["grid"] = {"zone": "XX", "carbon": "file", "carbon_file": "grid.csv"}

    return mutate


_HEADER = (
    "Datetime (UTC),Country,Zone Name,Zone Id,Carbon Intensity gCO₂eq/kWh (direct),"
    "Carbon Intensity gCO₂eq/kWh (LCA),Low Carbon Percentage,Renewable Percentage\n"
)
_ROWS = [f"2023-01-01 {h:02d}:00:00,X,X,X,300.5,350.1,40,30\n" for h in range(24)]
_BAD_ROWS = list(_ROWS)
_BAD_ROWS[4] = "2023-01-01 04:00:00,X,X,X,lots,350.1,40,30\n"  # file line 6

# (case id, mutation, expected fragments of the single message)
CASES: list[tuple[str, Mutation, list[str]]] = [
    (
        "negative-capacity",
        _set("hubs", 1, "pools", 0, "devices", value=-8),
        ["hubs[1].pools[0].devices: must be > 0 (got -8)"],
    ),
    (
        "unknown-pool-kind",
        _set("hubs", 0, "pools", 0, "kind", value="gpu"),
        ["hubs[0].pools[0].kind", "'general', 'ai', 'hpc' or 'quantum'", "'gpu'"],
    ),
    (
        "unknown-zone",
        _set("hubs", 1, "grid", "zone", value="CN-SHH"),
        ["hubs[1].grid.zone", "unknown zone 'CN-SHH'", "did you mean 'CN-SH'"],
    ),
    (
        "latitude-out-of-range",
        _set("hubs", 0, "lat", value=95.0),
        ["hubs[0].lat: must be <= 90 (got 95.0)"],
    ),
    (
        "missing-data-file",
        _set("hubs", 0, "grid", value={"zone": "DE", "carbon": "file", "carbon_file": "no.csv"}),
        ["hubs[0].grid.carbon_file", "data file not found", "no.csv"],
    ),
    (
        "malformed-csv-row",
        _carbon_file(_HEADER + "".join(_BAD_ROWS)),
        ["grid.csv:6", "(direct)", "lots"],
    ),
    (
        "empty-csv",
        _carbon_file(""),
        ["grid.csv", "empty"],
    ),
    ("duplicate-hub-id", _set("hubs", 1, "id", value="west"), ["hubs[1].id", "duplicate hub id"]),
    (
        "link-to-unknown-hub",
        _set(
            "links",
            value=[{"a": "beijing", "b": "wset", "latency_ms": 5, "bandwidth_gbps": 10}],
        ),
        ["links[0].b", "unknown hub or region 'wset'", "did you mean 'west'"],
    ),
    (
        "unknown-key",
        _rename_key(("hubs", 0), "pue_target", "pue_targt"),
        ["hubs[0].pue_targt", "unknown key 'pue_targt'", "did you mean 'pue_target'"],
    ),
    ("missing-field", _delete("hubs", 0, "pools"), ["hubs[0].pools: required field is missing"]),
    ("bad-slot-length", _set("time", "dt_h", value=0.3), ["time.dt_h: must be 1, 0.5 or 0.25"]),
    ("start-not-utc", _set("time", "start", value="2023-01-01T00:00:00+08:00"), ["time.start"]),
    (
        "pue-max-below-min",
        _set("hubs", 0, "pue", value={"pue_min": 1.3, "pue_max": 1.1}),
        ["hubs[0].pue.pue_max: must be >= pue_min 1.3"],
    ),
    (
        "battery-energy-without-power",
        _set("hubs", 0, "assets", "battery_mw", value=0),
        ["hubs[0].assets.battery_mw", "both"],
    ),
    (
        "unknown-tariff",
        _set("hubs", 1, "grid", "tou", value="solar-valey"),
        ["hubs[1].grid.tou", "did you mean 'solar-valley'"],
    ),
    (
        "unknown-turbine",
        _set("hubs", 0, "assets", "turbine_type", value="E-126/420"),
        ["hubs[0].assets.turbine_type", "unknown turbine type"],
    ),
    (
        "text-for-a-number",
        _set("hubs", 0, "pools", 0, "devices", value="many"),
        ["hubs[0].pools[0].devices: must be a whole number (got 'many')"],
    ),
    (
        "negative-flat-price",
        _set("hubs", 1, "grid", "flat_price_per_mwh", value=-5),
        ["hubs[1].grid.flat_price_per_mwh: must be >= 0 (got -5)"],
    ),
    (
        "unknown-turbine-without-wind",
        _set("hubs", 1, "assets", value={"turbine_type": "nope"}),
        ["hubs[1].assets.turbine_type", "unknown turbine type 'nope'"],
    ),
    (
        "negative-wind",
        _set("hubs", 0, "assets", "wind_mw", value=-1),
        ["hubs[0].assets.wind_mw: must be >= 0 (got -1)"],
    ),
    (
        "planned-kw-reversed",
        _set(
            "hubs",
            0,
            "planned",
            value=[
                {
                    "name": "c",
                    "kind": "ai",
                    "cabinets": 664,
                    "cabinet_kw_min": 30,
                    "cabinet_kw_max": 24,
                    "pflops": 20000,
                }
            ],
        ),
        ["hubs[0].planned[0].cabinet_kw_max: must be >= cabinet_kw_min 30"],
    ),
    (
        "infinite-power",
        _set("hubs", 0, "pools", 0, "kw_per_device", value=float("inf")),
        ["hubs[0].pools[0].kw_per_device: must be a finite number (got inf)"],
    ),
    (
        "nan-wind",
        _set("hubs", 0, "assets", "wind_mw", value=float("nan")),
        ["hubs[0].assets.wind_mw: must be a finite number"],
    ),
    (
        "huge-devices",
        _set("hubs", 0, "pools", 0, "devices", value=10**24),
        ["hubs[0].pools[0].devices: must be <= 100000000 (got 1000000000000000000000000)"],
    ),
    (
        "huge-wind",
        _set("hubs", 0, "assets", "wind_mw", value=1e308),
        ["hubs[0].assets.wind_mw: must be <= 1000000 (got 1e+308)"],
    ),
    (
        "bool-days",
        _set("time", "days", value=True),
        ["time.days: must be a whole number (got True)"],
    ),
    (
        "half-device",
        _set("hubs", 0, "pools", 0, "devices", value=8.5),
        ["hubs[0].pools[0].devices: must be a whole number (got 8.5)"],
    ),
    ("bool-lat", _set("hubs", 1, "lat", value=True), ["hubs[1].lat: must be a number (got True)"]),
    (
        "quoted-number",
        _set("hubs", 0, "pools", 0, "kw_per_device", value="0.9"),
        ["hubs[0].pools[0].kw_per_device: must be a number (got '0.9')"],
    ),
    (
        "data-file-is-a-folder",
        lambda d, tmp: (
            (tmp / "grid.csv").mkdir(),
            d["hubs"][0].update(grid={"zone": "XX", "carbon": "file", "carbon_file": "grid.csv"}),
        ),
        ["hubs[0].grid.carbon_file: data file 'grid.csv' is a folder", "expected a file"],
    ),
    (
        "far-start",
        _set("time", "start", value="9999-12-31T00:00:00Z"),
        ["time.start: must be a time between the years 1900 and 2200"],
    ),
    (
        "start-off-the-hour",
        _set("time", "start", value="2023-01-31T20:30:00Z"),
        ["time.start: must be on a whole UTC hour, like 2023-01-01T00:00:00Z"],
    ),
    (
        "mixed-currencies",
        _set("hubs", 1, "grid", "currency", value="USD"),
        [
            "hubs[1].grid.currency: hub 'east' prices its grid energy and contracted green in USD, "
            "hub 'west' in CNY",
            "every hub must use one currency",
        ],
    ),
    (
        "price-file-not-in-usd",
        lambda d, _tmp: (  # west prices in USD, the price files' currency: only east is wrong
            d["hubs"][0]["grid"].update(currency="USD"),
            d["hubs"][1].update(
                grid={"zone": "CN-SH", "price": "file", "price_file": "prices-2023/DE-LU.csv"}
            ),
        ),
        [
            "hubs[1].grid.currency: hub 'east' reads its prices from price_file in USD/MWh",
            "set currency: USD",
        ],
    ),
    (
        "zone-by-chinese-name",
        _set("hubs", 0, "grid", "zone", value="内蒙古"),
        [
            "hubs[0].grid.zone",
            "unknown zone '内蒙古'",
            "did you mean 'CN-NM' (内蒙古 Inner Mongolia)?",
        ],
    ),
    (
        "zone-like-no-province",
        _set("hubs", 0, "grid", "zone", value="XX"),
        [
            "hubs[0].grid.zone",
            "the 30 codes are: CN-AH 安徽, CN-BJ 北京,",
            "CN-XJ 新疆, CN-YN 云南",
        ],
    ),
    (
        "zone-code-of-no-province",
        _set("hubs", 0, "grid", "zone", value="CN-XZ"),
        [
            "hubs[0].grid.zone: unknown zone 'CN-XZ' for a modelled grid: expected a Chinese "
            "province code such as CN-NM; CN-XZ is 西藏 Tibet, which has no official provincial "
            "factor (model its grid with carbon: file and a carbon_file); the 30 codes are: "
            "CN-AH 安徽,",
        ],
    ),
    (
        "zone-typo",
        _set("hubs", 0, "grid", "zone", value="cn-nmg"),
        ["unknown zone 'cn-nmg'", "; did you mean 'CN-NM' (内蒙古 Inner Mongolia)?"],
    ),
    (
        "turbine-by-maker-name",
        _set("hubs", 0, "assets", "turbine_type", value="GW155-4.5MW"),
        [
            "hubs[0].assets.turbine_type: unknown turbine type 'GW155-4.5MW'",
            "did you mean 'E-141/4200' (141 m rotor, 4.2 MW)",
            "all 67 types: `greendispatch scenario turbines`",
        ],
    ),
    (
        "chinese-scenario-name",
        _set("name", value="和林格尔-自建"),
        [
            "name: may contain only ASCII letters",
            "(got '和林格尔-自建'); a Chinese name goes in title_zh",
        ],
    ),
    (
        "chinese-hub-id",
        _set("hubs", 1, "id", value="乌兰察布"),
        ["hubs[1].id: may contain only ASCII letters", "a Chinese name goes in name_zh"],
    ),
    (
        "fullwidth-digits",
        _set("hubs", 0, "pools", 0, "devices", value="５０００"),
        ["hubs[0].pools[0].devices: must be a whole number", "full-width '５'", "write '5000'"],
    ),
]


@pytest.mark.parametrize(("case", "mutate", "fragments"), CASES, ids=[c[0] for c in CASES])
def test_bad_scenario_gives_one_clear_message(
    case: str,
    mutate: Mutation,
    fragments: list[str],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("GREENDISPATCH_DATA", raising=False)
    data = small_scenario()
    mutate(data, tmp_path)
    path = write_yaml(tmp_path / f"{case}.yaml", data)
    code, out, err = run_cli(["scenario", "validate", str(path)], capsys, monkeypatch)
    assert code == 2, (out, err)
    assert "Traceback" not in err
    lines = [ln for ln in err.splitlines() if ln.startswith("error:")]
    assert len(lines) == 1, err
    for frag in fragments:
        assert frag in lines[0], (frag, lines[0])


def test_message_names_the_line_of_the_bad_value(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    text = (Path(__file__).parent / "bad-devices.yaml").read_text(encoding="utf-8")
    path = tmp_path / "bad.yaml"
    path.write_text(text, encoding="utf-8")
    code, _, err = run_cli(["scenario", "validate", str(path)], capsys, monkeypatch)
    expected_line = next(i for i, ln in enumerate(text.splitlines(), 1) if "devices: -8" in ln)
    assert code == 2
    assert f"{path}:{expected_line}: hubs[2].pools[0].devices: must be > 0 (got -8)" in err


# Typed with a Chinese input method: a full-width colon is named, with the line to write.
_FW_HUB = """\
name: fw
hubs:
  - id: west
    name: West
    lat: 40.4
    lon: 111.8
    grid: {zone: CN-NM}
    pools:
      - {kind: ai, device_model: acc, devices: 100, pflops_per_device: 0.3, kw_per_device: 0.9}
"""


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("name: x\nhubs: [\n", "not valid YAML"),
        ("", "the file is empty"),
        ("- a\n- b\n", "expected a mapping"),
        ("name: a\nname: b\nhubs: []\n", "name: duplicate key"),
        (
            "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
            + "".join(
                f"{n}: &{n} [{', '.join([f'*{p}'] * 10)}]\n"
                for p, n in zip("abcdefg", "bcdefgh", strict=True)
            )
            + "name: *h\n",
            "expands to more than 1,000,000 values through its aliases",
        ),
        ("a: &a [1, *a]\n", "expands to more than 1,000,000 values"),
        ("hubs: " + "[" * 5000 + "]" * 5000 + "\n", "nested too deeply"),
        (
            _FW_HUB + "    assets: {wind_mw：50, solar_mw: 30}\n",
            "s.yaml:10: hubs[0].assets.wind_mw：50: unknown key 'wind_mw：50'; line 10 contains "
            "the full-width '：' (fullwidth colon, U+FF1A): write 'assets: {wind_mw: 50, "
            "solar_mw: 30}' in ASCII\n",
        ),
        (
            _FW_HUB + "    assets:\n      wind_mw：50\n",
            "s.yaml:10: hubs[0].assets: must be a mapping of keys (got 'wind_mw：50'); it contains "
            "the full-width '：' (fullwidth colon, U+FF1A): write 'wind_mw: 50' in ASCII\n",
        ),
        (
            _FW_HUB.replace("name: West", "name：West"),
            "s.yaml:5: not valid YAML: could not find expected ':'; line 4 contains the "
            "full-width '：' (fullwidth colon, U+FF1A): write 'name: West' in ASCII\n",
        ),
    ],
    ids=[
        "yaml-syntax",
        "empty-file",
        "top-level-list",
        "duplicate-key",
        "alias-bomb",
        "self-alias",
        "deep-nesting",
        "fullwidth-colon-in-a-key",
        "fullwidth-colon-in-a-value",
        "fullwidth-colon-in-yaml-syntax",
    ],
)
def test_unreadable_files(
    text: str,
    fragment: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(text, encoding="utf-8")
    code, _, err = run_cli(["scenario", "validate", str(path)], capsys, monkeypatch)
    assert code == 2
    assert fragment in err
    assert "Traceback" not in err


def test_several_problems_are_all_reported(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    data = small_scenario()
    data["hubs"][0]["lat"] = 100
    data["hubs"][1]["pools"][0]["devices"] = 0
    path = write_yaml(tmp_path / "two.yaml", data)
    code, _, err = run_cli(["scenario", "validate", str(path)], capsys, monkeypatch)
    assert code == 2
    assert "hubs[0].lat" in err and "hubs[1].pools[0].devices" in err


def test_missing_scenario_file_and_unknown_name(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, _, err = run_cli(["scenario", "show", "nowhere/s.yaml"], capsys, monkeypatch)
    assert code == 2 and "file not found" in err
    code, _, err = run_cli(["scenario", "show", "china-hub"], capsys, monkeypatch)
    assert code == 2 and "did you mean 'china-hubs'" in err


def test_whole_numbers_may_be_written_with_a_point(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    data = small_scenario()
    data["hubs"][0]["pools"][0]["devices"] = 100.0
    data["time"]["days"] = 1.0
    path = write_yaml(tmp_path / "points.yaml", data)
    code, out, err = run_cli(["scenario", "validate", str(path)], capsys, monkeypatch)
    assert code == 0, err
    assert "1 day of 1 h slots" in out


def test_valid_small_scenario_passes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_yaml(tmp_path / "ok.yaml", small_scenario())
    code, out, err = run_cli(["scenario", "validate", str(path)], capsys, monkeypatch)
    assert code == 0, err
    assert "ok" in out and "2 hubs" in out


def _builtin_with(name: str, tmp_path: Path, edit: Callable[[list[str]], None]) -> Path:
    """A built-in scenario exported as text, with its lines edited, written to a file."""
    rows = builtin_text(name).splitlines()
    edit(rows)
    path = tmp_path / f"{name}.yaml"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def _grid_line(rows: list[str], hub: str) -> int:
    """Index of the ``grid:`` line of hub ``hub`` (a flow mapping in the built-ins)."""
    start = next(i for i, r in enumerate(rows) if r.strip() == f"- id: {hub}")
    return next(i for i in range(start, len(rows)) if rows[i].strip().startswith("grid:"))


def _errors(
    path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> list[str]:
    """The error lines of ``scenario validate PATH``, which must fail with exit code 2."""
    code, _, err = run_cli(["scenario", "validate", str(path)], capsys, monkeypatch)
    assert code == 2, err
    return [ln for ln in err.splitlines() if ln.startswith("error:")]


@pytest.mark.parametrize(
    ("hub", "expected"),
    [
        # au-nsw is the first hub and reads a price file: only its own line is wrong
        (
            "au-nsw",
            "hubs[0].grid.currency: hub 'au-nsw' reads its prices from price_file in USD/MWh "
            "(column 'Price (USD/MWh)') but its currency is 'CNY': set currency: USD",
        ),
        # gb has a modelled tariff: wrong against USD, the price files' currency
        (
            "gb",
            "hubs[6].grid.currency: hub 'gb' prices its grid energy and contracted green in CNY, "
            "the other 15 hubs in USD: costs are summed across hubs",
        ),
    ],
)
def test_one_wrong_currency_is_the_only_error(
    hub: str,
    expected: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def edit(rows: list[str]) -> None:
        i = _grid_line(rows, hub)
        assert "currency: USD" in rows[i]
        rows[i] = rows[i].replace("currency: USD", "currency: CNY")

    errors = _errors(_builtin_with("global-16", tmp_path, edit), capsys, monkeypatch)
    assert len(errors) == 1 and expected in errors[0], errors


def test_the_currency_most_hubs_use_is_the_reference(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # china-hubs has no price files and every hub in CNY (the default); the first hub in USD is
    # the one odd hub out, not the nine others
    def edit(rows: list[str]) -> None:
        i = _grid_line(rows, "horinger")
        rows[i] = rows[i].replace("}", ", currency: USD}", 1)

    errors = _errors(_builtin_with("china-hubs", tmp_path, edit), capsys, monkeypatch)
    assert len(errors) == 1, errors
    assert (
        "hubs[0].grid.currency: hub 'horinger' prices its grid energy and contracted green in "
        "USD, the other 9 hubs in CNY" in errors[0]
    )
    assert "give this hub's flat_price_per_mwh in CNY and set currency: CNY" in errors[0]


def test_with_a_price_file_every_hub_not_in_usd_is_wrong(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    data = small_scenario()  # both hubs in CNY, the default
    data["hubs"][1]["grid"] = {"zone": "CN-SH", "price": "file", "price_file": "p.csv"}
    errors = _errors(write_yaml(tmp_path / "file.yaml", data), capsys, monkeypatch)
    assert len(errors) == 2, errors
    assert (
        "hubs[0].grid.currency: hub 'west' prices its grid energy and contracted green in CNY, "
        "price files in USD" in errors[0]
    )
    assert "hubs[1].grid.currency: hub 'east' reads its prices from price_file" in errors[1]
