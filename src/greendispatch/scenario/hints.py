"""What to do about a bad value in a scenario file: the hints that scenario messages end with.

Pure functions of text (and of the valid values, which the caller passes in), so that the
signal checks can use them for zones and turbines without this layer importing theirs: a
province written by name instead of by code, a turbine written by its maker's name. Full-width
punctuation typed with a Chinese input method is :mod:`greendispatch.scenario.fullwidth`'s.
"""

from __future__ import annotations

import difflib
import math
import re
import unicodedata
from collections.abc import Iterable, Mapping

#: The command that lists every turbine type a scenario may name.
TURBINES_COMMAND = "greendispatch scenario turbines"


#: Chinese regions with an ISO 3166-2 code but no official provincial factor: never a typo of a
#: listed province. Code -> (English names, Chinese names), the first of each shown.
UNLISTED_REGIONS = {
    "CN-XZ": (("Tibet", "Xizang"), ("西藏",)),
    "CN-HK": (("Hong Kong",), ("香港",)),
    "CN-MO": (("Macao", "Macau"), ("澳门", "澳門")),
    "CN-TW": (("Taiwan",), ("台湾", "台灣")),
}


def zone_hint(zone: str, provinces: Mapping[str, tuple[str, str]]) -> str:
    """What to write for an unknown province: the codes whose Chinese or English name the value
    names (``内蒙古`` -> CN-NM), else the code it mistypes (``CN-NMG``, ``cn-nm``, ``NM`` ->
    CN-NM), else every code. A code is suggested only for a typo, never for an unrelated code
    that merely looks alike (``CN-XZ`` is Tibet, not Zhejiang).

    ``provinces`` maps code -> (English name, Chinese name).
    """
    # Full-width letters and dashes (ＣＮ－ＮＭ, typed with a Chinese input method) read as ASCII.
    value = unicodedata.normalize("NFKC", zone).strip()
    unlisted = _named_codes(value, UNLISTED_REGIONS) or _mistyped_codes(
        value, UNLISTED_REGIONS, typos=False
    )
    named = _named_codes(value, {c: ((en,), (zh,)) for c, (en, zh) in provinces.items()})
    if not named and not unlisted:
        named = _mistyped_codes(value, provinces)
    if named:
        return (
            f"; did you mean {_or(f'{c!r} ({provinces[c][1]} {provinces[c][0]})' for c in named)}?"
        )
    codes = ", ".join(f"{c} {zh}" for c, (_, zh) in sorted(provinces.items()))
    note = "".join(
        f"; {c} is {UNLISTED_REGIONS[c][1][0]} {UNLISTED_REGIONS[c][0][0]}, which has no "
        "official provincial factor (model its grid with carbon: file and a carbon_file)"
        for c in unlisted
    )
    return f"{note}; the {len(provinces)} codes are: {codes}"


def _named_codes(
    value: str, regions: Mapping[str, tuple[tuple[str, ...], tuple[str, ...]]]
) -> list[str]:
    """The codes whose Chinese name is in ``value`` (or holds it), or whose English name it is;
    ``regions`` maps code -> (English names, Chinese names)."""
    squeezed = value.replace(" ", "").lower()
    return [
        code
        for code, (ens, zhs) in regions.items()
        if value
        and (
            any(zh in value or (len(value) >= 2 and value in zh) for zh in zhs)
            or any(en.replace(" ", "").lower() == squeezed for en in ens)
        )
    ]


def _mistyped_codes(value: str, codes: Iterable[str], *, typos: bool = True) -> list[str]:
    """The codes ``value`` is a typo of: another case, ``CN-`` or its dash left out
    (``nm``, ``CNNM``), or (with ``typos``), written with ``CN``, one letter too many
    (``CN-NMG``), two letters swapped (``CN-MN``) or one letter wrong where only one code is that
    close (``CN-BG`` -> CN-BJ)."""
    norm = re.sub(r"[\s_\-]", "", value.upper())
    prefixed = norm.startswith("CN") and len(norm) >= 4
    part = norm[2:] if prefixed else norm
    parts = {c.removeprefix("CN-"): c for c in codes}
    if not re.fullmatch("[A-Z]{2,3}", part):
        return []
    if part in parts:
        return [parts[part]]
    if not prefixed or not typos:
        return []
    near = [
        p for p in parts if len(part) == 3 and p in {part[:i] + part[i + 1 :] for i in range(3)}
    ]
    near = near or [p for p in parts if p == part[::-1]]
    if not near:
        wrong = [
            p
            for p in parts
            if len(p) == len(part) and sum(a != b for a, b in zip(p, part, strict=True)) == 1
        ]
        near = wrong if len(wrong) == 1 else []
    return [parts[p] for p in near]


def _or(items: Iterable[str]) -> str:
    words = list(items)
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} or {words[-1]}"


def turbine_size(name: str) -> tuple[float | None, float | None]:
    """(rotor diameter m, rated power kW) read from a turbine's name: oedb names are
    ``<maker><rotor>/<kW>`` (``E-141/4200``); a maker's own name such as ``GW155-4.5MW`` gives
    the rotor and the power in MW. None where the name does not say."""
    oedb = re.fullmatch(r"\D*(\d+)/(\d+)(?:/.*)?", name)
    if oedb:
        return float(oedb.group(1)) or None, float(oedb.group(2)) or None
    mw = re.search(r"(\d+(?:\.\d+)?)\s*MW", name, re.I)
    kw = re.search(r"/(\d{3,5})(?!\d)", name)
    power = float(mw.group(1)) * 1000 if mw else float(kw.group(1)) if kw else None
    rotors = re.findall(r"(?<![\d.])(\d{2,3})(?![\d.]|\s*MW)", name, re.I)
    rotor = next((float(d) for d in rotors if 30 <= int(d) <= 250), None)
    return rotor, power or None


def turbine_hint(turbine: str, valid: Iterable[str], n: int = 3) -> str:
    """The valid turbine types nearest ``turbine``: a close spelling first, then the nearest in
    rotor diameter and rated power (log distance, ties by spelling); and where to see them all."""
    names = list(valid)
    picks = difflib.get_close_matches(turbine, names, n=1, cutoff=0.5)
    rotor, power = turbine_size(turbine)
    if rotor is not None or power is not None:

        def distance(name: str) -> tuple[float, float]:
            r, p = turbine_size(name)
            d = 0.0
            for want, have in ((rotor, r), (power, p)):
                if want is not None:
                    d += abs(math.log(want / have)) if have else math.inf
            return d, -difflib.SequenceMatcher(None, turbine, name).ratio()

        picks += sorted(names, key=distance)[:n]
    picks = list(dict.fromkeys(picks))[:n]
    every = f"all {len(names)} types: `{TURBINES_COMMAND}`"
    if not picks:
        return f"; {every}"
    return f"; did you mean {_or(f'{p!r} ({_size_text(p)})' for p in picks)}? {every}"


def _size_text(name: str) -> str:
    rotor, power = turbine_size(name)
    parts = [f"{rotor:g} m rotor" if rotor else "", f"{power / 1000:g} MW" if power else ""]
    return ", ".join(p for p in parts if p)
