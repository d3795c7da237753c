"""Load scenarios (built-in names or YAML files), validate them and report every problem.

A bad file gets one message per problem, ``path/to/file.yaml:LINE: hubs[2].pools[0].devices:
must be > 0 (got -8)``, raised as :class:`~greendispatch.errors.ScenarioError` (exit code 2).
"""

from __future__ import annotations

import difflib
import os
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from greendispatch.domain import Scenario, SignalSource
from greendispatch.errors import InputError, Problem, ScenarioError
from greendispatch.scenario.fullwidth import key_hint, value_hint
from greendispatch.scenario.schema import ScenarioIn, model_at, to_domain
from greendispatch.scenario.yamlmap import Loc, format_loc, line_of, parse_yaml_with_lines
from greendispatch.scenario.yamlnumbers import PlainNumber

DATA_ENV = "GREENDISPATCH_DATA"
DEFAULT_SCENARIO = "china-hubs"


@dataclass(frozen=True)
class LoadedScenario:
    """A validated scenario and where it came from (for resolving relative data paths)."""

    scenario: Scenario
    source: str
    base_dir: Path | None
    builtin: bool
    lines: dict[Loc, int]


def builtin_names() -> list[str]:
    """Names of the scenarios shipped with the package."""
    folder = resources.files("greendispatch.scenario") / "builtin"
    return sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".yaml"))


def builtin_text(name: str) -> str:
    """The YAML text of a built-in scenario, with its comments and citations."""
    if name not in builtin_names():
        raise ScenarioError(_unknown_name(name))
    return (resources.files("greendispatch.scenario") / "builtin" / f"{name}.yaml").read_text(
        encoding="utf-8"
    )


def _unknown_name(name: str) -> Problem:
    names = builtin_names()
    close = difflib.get_close_matches(name, names, n=1)
    hint = f"; did you mean '{close[0]}'?" if close else ""
    return Problem(
        name,
        None,
        "",
        f"no such scenario file or built-in scenario (built-ins: {', '.join(names)}){hint}",
    )


MAX_SCENARIO_BYTES = 2 * 2**20  # a scenario is a few KB; larger is a wrong file, not a network


def load_scenario(name_or_path: str | Path = DEFAULT_SCENARIO) -> LoadedScenario:
    """Load a built-in scenario by name or a YAML scenario file by path; raise ScenarioError."""
    text_name = str(name_or_path)
    if text_name in builtin_names():
        text = builtin_text(text_name)
        return parse_scenario(text, f"<builtin:{text_name}>", base_dir=None, builtin=True)
    path = Path(text_name)
    if not path.exists():
        if path.suffix in (".yaml", ".yml") or os.sep in text_name:
            raise ScenarioError(
                Problem(text_name, None, "", f"file not found (looked at {path.resolve()})")
            )
        raise ScenarioError(_unknown_name(text_name))
    if path.is_dir():
        raise ScenarioError(Problem(text_name, None, "", "is a folder; expected a YAML file"))
    if not path.is_file():
        why = "is not a regular file (a device or a pipe); expected a YAML file"
        raise ScenarioError(Problem(text_name, None, "", why))
    try:
        if path.stat().st_size > MAX_SCENARIO_BYTES:
            size = path.stat().st_size / 2**20
            why = (
                f"is {size:,.1f} MiB; a scenario file is text of a few KB "
                f"(at most {MAX_SCENARIO_BYTES // 2**20} MiB): is it the right file?"
            )
            raise ScenarioError(Problem(text_name, None, "", why))
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError(Problem(text_name, None, "", f"cannot read the file: {exc}")) from None
    return parse_scenario(text, text_name, base_dir=path.resolve().parent, builtin=False)


def parse_scenario(
    text: str, source: str, *, base_dir: Path | None = None, builtin: bool = False
) -> LoadedScenario:
    """Validate scenario YAML text; every problem is reported with its line."""
    data, lines, problems = parse_yaml_with_lines(text, source)
    if problems and data is None:
        raise ScenarioError(problems)
    if not isinstance(data, dict):
        problems.append(
            Problem(
                source, 1, "", f"expected a mapping of scenario keys, got {type(data).__name__}"
            )
        )
        raise ScenarioError(problems)
    try:
        model = ScenarioIn.model_validate(data)
    except ValidationError as exc:
        problems += [_problem_from_error(e, source, lines, text, data) for e in exc.errors()]
        raise ScenarioError(problems) from None
    problems += check_scenario(model, source, lines)
    if problems:
        raise ScenarioError(problems)
    return LoadedScenario(to_domain(model), source, base_dir, builtin, lines)


_MESSAGES = {
    "greater_than": "must be > {gt}",
    "greater_than_equal": "must be >= {ge}",
    "less_than": "must be < {lt}",
    "less_than_equal": "must be <= {le}",
    "missing": "required field is missing",
    "int_parsing": "must be a whole number",
    "int_from_float": "must be a whole number",
    "int_type": "must be a whole number",
    "float_parsing": "must be a number",
    "float_type": "must be a number",
    "finite_number": "must be a finite number",
    "bool_type": "must be true or false",
    "string_type": "must be text",
    "bool_parsing": "must be true or false",
    "list_type": "must be a list",
    "model_type": "must be a mapping of keys",
    "dict_type": "must be a mapping of keys",
    "too_short": "must have at least {min_length} item(s)",
    "string_too_short": "must have at least {min_length} character(s)",
    "string_too_long": "must have at most {max_length} characters",
    "string_pattern_mismatch": "may contain only ASCII letters A-Z a-z, digits 0-9, '_', '-' "
    "and '.'",
}
#: Where a Chinese name belongs when an identifier key is given one.
_CHINESE_NAME_KEY = {"name": "title_zh", "id": "name_zh"}


def _problem_from_error(
    err: Any, source: str, lines: dict[Loc, int], text: str, data: dict[str, Any]
) -> Problem:
    loc: Loc = tuple(err["loc"])
    kind = err["type"]
    ctx = err.get("ctx") or {}
    got = err.get("input")
    if isinstance(written := _value_at(data, loc), PlainNumber):
        got = written  # 1e308 as written, not the 1e+308 it was read as
    if kind == "extra_forbidden":
        key = str(loc[-1])
        model = model_at(loc)
        valid = sorted(model.model_fields) if model else []
        close = difflib.get_close_matches(key, valid, n=1, cutoff=0.5)
        msg = f"unknown key '{key}'"
        if hint := key_hint(key, line_of(lines, loc), text, loc[:-1], _text_error_locs):
            msg += hint
        else:
            msg += (
                f"; did you mean '{close[0]}'?" if close else f" (valid keys: {', '.join(valid)})"
            )
        return Problem(source, line_of(lines, loc), format_loc(loc), msg)
    if kind == "enum":
        msg = f"must be one of {ctx.get('expected', '')} (got {got!r})"
    elif kind == "value_error":
        msg = str(ctx.get("error", err["msg"]))
    elif kind in _MESSAGES:
        msg = _MESSAGES[kind].format(**{k: _num(v) for k, v in ctx.items()})
        if kind != "missing":
            msg += f" (got {got!r})"
    else:
        msg = f"{err['msg']} (got {got!r})"
    if isinstance(got, str):  # ５０００, ｔｒｕｅ, wind_mw：50 typed with a Chinese input method
        msg += value_hint(got, _VALUE_KIND.get(kind, "ascii"), data, loc, _error_locs)
        if kind == "string_pattern_mismatch" and not got.isascii():
            key = str(loc[-1])
            msg += (
                f"; a Chinese name goes in {_CHINESE_NAME_KEY[key]}"
                if key in _CHINESE_NAME_KEY
                else "; write the hub's or region's id, not its name"
            )
    return Problem(source, line_of(lines, loc), format_loc(loc), msg)


def _value_at(data: Any, loc: Loc) -> Any:
    """The value at ``loc`` of the scenario ``data``, or None where there is none."""
    for part in loc:
        try:
            data = data[part]
        except (LookupError, TypeError):
            return None
    return data


#: How a value's full-width characters are judged, by the error it gave: a number, a mapping
#: written on one line, else a value that must be ASCII (an identifier, a choice, true/false).
_VALUE_KIND = dict.fromkeys(("int_parsing", "float_parsing", "int_type", "float_type"), "number")
_VALUE_KIND |= dict.fromkeys(("model_type", "dict_type", "list_type"), "yaml")


def _error_locs(data: Any) -> list[Loc]:
    """Where the scenario ``data`` has errors (none when it is valid)."""
    try:
        ScenarioIn.model_validate(data)
    except ValidationError as exc:
        return [tuple(e["loc"]) for e in exc.errors()]
    return []


def _text_error_locs(text: str) -> list[Loc] | None:
    """Where the scenario ``text`` has errors, or None when it does not read as YAML."""
    data, _, problems = parse_yaml_with_lines(text, "")
    return None if problems or not isinstance(data, dict) else _error_locs(data)


def _num(v: Any) -> Any:
    """``90.0`` -> ``90``: numbers in messages as a person writes them."""
    if isinstance(v, float) and v.is_integer() and abs(v) < 1e15:
        return str(int(v))  # 1000000, not 1e+06
    return f"{v:g}" if isinstance(v, float) else v


def suggest(value: str, valid: list[str]) -> str:
    close = difflib.get_close_matches(value, valid, n=1, cutoff=0.5)
    return f"; did you mean '{close[0]}'?" if close else ""


def check_scenario(s: ScenarioIn, source: str, lines: dict[Loc, int]) -> list[Problem]:
    """Checks across fields that pydantic cannot express; returns problems (empty if fine)."""
    out: list[Problem] = []

    def add(loc: Loc, msg: str) -> None:
        out.append(Problem(source, line_of(lines, loc), format_loc(loc), msg))

    seen: dict[str, int] = {}
    for i, h in enumerate(s.hubs):
        if h.id in seen:
            add(("hubs", i, "id"), f"duplicate hub id '{h.id}' (first at hubs[{seen[h.id]}])")
        seen.setdefault(h.id, i)
    regions: dict[str, int] = {}
    for i, r in enumerate(s.regions):
        if r.id in regions or r.id in seen:
            add(("regions", i, "id"), f"duplicate id '{r.id}' (hub and region ids must be unique)")
        regions.setdefault(r.id, i)
    endpoints = sorted(set(seen) | set(regions))
    for i, lk in enumerate(s.links):
        for end in ("a", "b"):
            v = getattr(lk, end)
            if v not in seen and v not in regions:
                add(("links", i, end), f"unknown hub or region '{v}'{suggest(v, endpoints)}")
        if lk.a == lk.b:
            add(("links", i, "b"), f"a link must join two different endpoints (got '{lk.a}' twice)")
    for i, h in enumerate(s.hubs):
        g, base = h.grid, ("hubs", i, "grid")
        if g.carbon is SignalSource.FILE and not g.carbon_file:
            add((*base, "carbon_file"), "required when carbon is 'file'")
        if g.price is SignalSource.FILE and not g.price_file:
            add((*base, "price_file"), "required when price is 'file'")
        if h.pue.pue_max < h.pue.pue_min:
            add(
                ("hubs", i, "pue", "pue_max"),
                f"must be >= pue_min {h.pue.pue_min} (got {h.pue.pue_max})",
            )
        if h.pue.t_max_c <= h.pue.t_free_c:
            add(
                ("hubs", i, "pue", "t_max_c"),
                f"must be > t_free_c {h.pue.t_free_c} (got {h.pue.t_max_c})",
            )
        for j, pc in enumerate(h.planned):
            if pc.cabinet_kw_max < pc.cabinet_kw_min:
                add(
                    ("hubs", i, "planned", j, "cabinet_kw_max"),
                    f"must be >= cabinet_kw_min {pc.cabinet_kw_min} (got {pc.cabinet_kw_max})",
                )
        a = h.assets
        if (a.battery_mwh > 0) != (a.battery_mw > 0):
            add(
                ("hubs", i, "assets", "battery_mw"),
                f"battery_mwh and battery_mw must both be > 0 or both 0 "
                f"(got {a.battery_mwh} MWh, {a.battery_mw} MW)",
            )
    for loc, msg in _currency_problems(s):
        add(loc, msg)
    return out


#: The price CSVs' column is ``Price (USD/MWh)``: a hub that reads one prices in USD.
PRICE_FILE_CURRENCY = "USD"


def _currency_problems(s: ScenarioIn) -> list[tuple[Loc, str]]:
    """Costs are summed over hubs and the ``cost`` policy compares prices across them, with
    nothing converted: every hub must price its grid energy and contracted green in the
    scenario's currency, and a hub whose prices come from a file in USD. Only the odd ones out
    are reported, against :func:`scenario_currency`."""
    out: list[tuple[Loc, str]] = []
    ref = scenario_currency(s)
    files = any(h.grid.price is SignalSource.FILE for h in s.hubs)
    how = (
        f"price files are in {PRICE_FILE_CURRENCY}: give the modelled hubs' flat_price_per_mwh "
        f"in {PRICE_FILE_CURRENCY} and set currency: {PRICE_FILE_CURRENCY}"
        if files
        else f"give this hub's flat_price_per_mwh in {ref} and set currency: {ref}"
    )
    for i, h in enumerate(s.hubs):
        loc: Loc = ("hubs", i, "grid", "currency")
        cur = h.grid.currency
        if h.grid.price is SignalSource.FILE and cur != PRICE_FILE_CURRENCY:
            msg = (
                f"hub '{h.id}' reads its prices from price_file in {PRICE_FILE_CURRENCY}/MWh "
                f"(column 'Price ({PRICE_FILE_CURRENCY}/MWh)') but its currency is '{cur}': "
                f"set currency: {PRICE_FILE_CURRENCY}"
            )
            out.append((loc, msg))
        elif cur != ref:
            same = [o.id for o in s.hubs if o.grid.currency == ref]
            msg = (
                f"hub '{h.id}' prices its grid energy and contracted green in {cur}, "
                f"{_hubs_text(same, len(s.hubs) - 1)} in {ref}: costs are summed across hubs "
                f"and compared by the cost policy without conversion, so every hub must use one "
                f"currency ({how})"
            )
            out.append((loc, msg))
    return out


def scenario_currency(s: ScenarioIn) -> str:
    """The currency every hub must price in: USD when any hub reads a price file (those are in
    USD), else the currency most hubs use, ties going to the one the earliest hub uses."""
    if any(h.grid.price is SignalSource.FILE for h in s.hubs):
        return PRICE_FILE_CURRENCY
    currencies = [h.grid.currency for h in s.hubs]
    return max(dict.fromkeys(currencies), key=currencies.count)


def _hubs_text(ids: list[str], others: int) -> str:
    """``hub 'west'``, ``the other 15 hubs``, ``hubs 'a', 'b' and 3 more``, or, for none,
    ``price files``: who prices in the scenario's currency, as the odd one out reads it."""
    if not ids:
        return "price files"
    if len(ids) == 1:
        return f"hub '{ids[0]}'"
    if len(ids) == others:
        return f"the other {others} hubs"
    named = [f"'{i}'" for i in ids[:3]]
    if len(ids) > 3:
        named[-1] = f"{len(ids) - 2} more"
    return f"hubs {', '.join(named[:-1])} and {named[-1]}"


def scenario_warnings(loaded: LoadedScenario) -> list[Problem]:
    """Things that are allowed but almost surely not meant, as problems to print as warnings
    (the scenario stays valid): a battery at a hub with no own wind or solar to charge it."""
    out: list[Problem] = []
    for i, h in enumerate(loaded.scenario.hubs):
        a = h.assets
        if a.battery_mwh > 0 and a.wind_mw == 0 and a.solar_mw == 0:
            loc: Loc = ("hubs", i, "assets", "battery_mwh")
            msg = (
                f"hub '{h.id}' has a {a.battery_mwh:g} MWh battery but no own wind or solar "
                "(wind_mw and solar_mw are 0), and batteries charge only from those: it is never "
                "charged; give the hub wind_mw or solar_mw, or run simulate with --grid-charge to "
                "charge it from the grid"
            )
            out.append(Problem(loaded.source, line_of(loaded.lines, loc), format_loc(loc), msg))
    return out


def resolve_data_dir(cli_value: str | Path | None) -> Path | None:
    """The data folder: ``--data-dir`` if given, else ``$GREENDISPATCH_DATA``, else None. An
    empty ``--data-dir`` (an unset shell variable, say) is refused, not read as this folder."""
    if cli_value is not None:
        if not str(cli_value).strip():
            raise InputError("--data-dir: the value is empty; expected the data folder")
        return Path(cli_value)
    env = os.environ.get(DATA_ENV)
    return Path(env) if env else None


def data_file_problems(loaded: LoadedScenario, data_dir: Path | None) -> list[Problem]:
    """One problem per data file that the scenario names and that cannot be found."""
    out: list[Problem] = []
    for i, h in enumerate(loaded.scenario.hubs):
        for key in ("carbon_file", "price_file", "weather_file"):
            rel = getattr(h.grid, key)
            if not rel:
                continue
            try:
                resolve_data_file(rel, loaded, data_dir)
            except ScenarioError as exc:
                loc: Loc = ("hubs", i, "grid", key)
                p = exc.problems[0]
                out.append(
                    Problem(loaded.source, line_of(loaded.lines, loc), format_loc(loc), p.message)
                )
    return out


def resolve_data_file(rel: str, loaded: LoadedScenario, data_dir: Path | None) -> Path:
    """Find a data file named in a scenario: absolute, under the data folder, or next to the
    scenario file. Raise ScenarioError that says where it looked."""
    p = Path(rel)
    tried: list[Path] = []
    if p.is_absolute():
        tried.append(p)
    else:
        if data_dir is not None:
            tried.append(data_dir / p)
        if loaded.base_dir is not None:
            tried.append(loaded.base_dir / p)
    for cand in tried:
        if cand.is_file():
            return cand
        if cand.exists():
            what = "a folder" if cand.is_dir() else "not a regular file (a device or a pipe)"
            msg = f"data file '{rel}' is {what} ({cand.resolve()}); expected a file"
            raise ScenarioError(Problem(loaded.source, None, "", msg))
    if not tried:
        msg = (
            f"data file '{rel}' needs the data folder: give --data-dir or set {DATA_ENV} "
            "(e.g. ../shared/data)"
        )
    else:
        where = ", ".join(str(c.resolve()) for c in tried)
        msg = f"data file not found: looked for {where}"
        if data_dir is None:
            msg += f" (no data folder given: use --data-dir or {DATA_ENV})"
    raise ScenarioError(Problem(loaded.source, None, "", msg))
