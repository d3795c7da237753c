"""Full-width characters typed with a Chinese input method where YAML needs ASCII.

A Chinese input method types ``：`` for ``:``, ``，`` for ``,``, ``５`` for ``5`` and ``\\u3000``
for a space. In a key, as the colon after a key, as flow or list punctuation and in a number
that breaks the file; inside a text value (``name_zh: 和林格尔集群（呼和浩特）``) it is ordinary
Chinese punctuation and valid. So each character is judged by where it stands, and a rewrite is
offered only when it is confirmed, by reading the file again with it (and validating the
scenario, with the validator the caller passes); otherwise the characters are only named.
"""

from __future__ import annotations

import copy
import re
import unicodedata
from collections.abc import Callable
from typing import Any

import yaml

from greendispatch.scenario.yamlnumbers import load_yaml

#: Full-width forms of ASCII (U+FF01..U+FF5E) and the ideographic space.
_FULLWIDTH = re.compile("[\uff01-\uff5e\u3000]")
_SPACES = " \u3000"
#: A key: ASCII identifier characters, or their full-width forms (digits, letters, _ - .).
_KEY = re.compile("[A-Za-z0-9_.\\-\uff10-\uff19\uff21-\uff3a\uff41-\uff5a\uff3f\uff0d\uff0e]+")
#: A number, in ASCII or full-width digits, signs, point and exponent.
_NUMBER = re.compile(
    "[+\\-\uff0b\uff0d]?[0-9_.\uff10-\uff19\uff0e]+"
    "(?:[eE\uff45\uff25][+\\-\uff0b\uff0d]?[0-9\uff10-\uff19]+)?"
)
_OPEN, _CLOSE = "{[\uff5b\uff3b", "}]\uff5d\uff3d"
#: What a full-width separator becomes: YAML needs a space after ``:`` and reads ``,`` better
#: with one.
_SEPARATOR = {"\uff1a": ": ", "\uff0c": ", "}


def _ascii_of(ch: str) -> str:
    return " " if ch == "\u3000" else chr(ord(ch) - 0xFEE0)


def _is_wide(ch: str) -> bool:
    return _FULLWIDTH.fullmatch(ch) is not None


def _skip(text: str, i: int, marks: list[int]) -> int:
    """Past spaces from ``i``; ideographic ones are added to ``marks``."""
    while i < len(text) and text[i] in _SPACES:
        if text[i] == "\u3000":
            marks.append(i)
        i += 1
    return i


def _colon_after_key(text: str, i: int, in_flow: bool) -> int | None:
    """The index of a key's colon when a key starts at ``i`` (after spaces): ``wind_mw：`` or
    ``wind_mw: ``."""
    while i < len(text) and text[i] in _SPACES:
        i += 1
    m = _KEY.match(text, i)
    if m is None:
        return None
    k = m.end()
    while k < len(text) and text[k] in _SPACES:
        k += 1
    if k < len(text) and text[k] == "\uff1a":
        return k
    ends = _SPACES + (",}]" if in_flow else "")
    if k < len(text) and text[k] == ":" and (k + 1 == len(text) or text[k + 1] in ends):
        return k
    return None


def _closes(text: str, k: int) -> bool:
    """Whether a full-width bracket or comma at ``k`` is followed only by spaces, more
    punctuation or the end: then it closes a flow collection or separates its items."""
    rest = text[k + 1 :].lstrip(_SPACES)
    return not rest or rest[0] in ",\uff0c" + _CLOSE


def _comment_start(line: str) -> int:
    """Where a ``#`` comment starts (outside quotes), else the line's length."""
    quote = ""
    for i, ch in enumerate(line):
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "'\"" and (i == 0 or line[i - 1] in _SPACES + ":{[,"):
            quote = ch
        elif ch == "#" and (i == 0 or line[i - 1] in _SPACES):
            return i
    return len(line)


def yaml_marks(line: str) -> list[int]:
    """Positions of the full-width characters in a YAML line that stand where YAML syntax needs
    ASCII: in a key, as a key's colon, as list or flow punctuation, in a number, in the
    indentation. Those in a text value or a comment are left out."""
    text = line[: _comment_start(line)]
    marks: list[int] = []
    i, n = _indent_end(text, marks), len(text)
    depth, state = 0, "entry"  # entry: a key or a node may start; value: after a key's colon
    while True:
        i = _skip(text, i, marks if state == "entry" else [])  # inside a value: text
        if i >= n:
            break
        ch, wide = text[i], _is_wide(text[i])
        if state == "after":  # a node ended: a comma, a closing bracket or nothing
            if depth and ch in _CLOSE:
                depth -= 1
            elif not (ch in ",\uff0c" and (depth or _colon_after_key(text, i + 1, False))):
                break
            marks += [i] if wide else []
            i, state = i + 1, "entry" if ch in ",\uff0c" else "after"
        elif ch in _OPEN or (depth and ch in _CLOSE):
            marks += [i] if wide else []
            depth += 1 if ch in _OPEN else -1
            i, state = i + 1, "entry" if ch in _OPEN else "after"
        elif state == "entry" and (key := _colon_after_key(text, start := i, depth > 0)):
            i, state = key + 1, "value"
            while i < n and text[i] == "\u3000":  # the space YAML needs after a colon
                i += 1
            marks += [j for j in range(start, i) if _is_wide(text[j])]
        elif ch in "'\"":
            close = text.find(ch, i + 1)
            i, state = (n if close < 0 else close + 1), "after"
        else:
            stop = _scalar_end(text, i, depth > 0)
            if _NUMBER.fullmatch(text[i:stop].strip(_SPACES)):
                marks += [j for j in range(i, stop) if _is_wide(text[j])]
            i, state = stop, "after"
    return marks


def _indent_end(text: str, marks: list[int]) -> int:
    """Past the indentation and list dashes (``- ``); full-width ones there are marked."""
    i = 0
    while i < len(text) and (
        text[i] in _SPACES or (text[i] in "-\uff0d" and text[i + 1 : i + 2] in ("", " ", "\u3000"))
    ):
        marks += [i] if _is_wide(text[i]) else []
        i += 1
    return i


def _scalar_end(text: str, i: int, in_flow: bool) -> int:
    """Where a plain scalar starting at ``i`` ends: at flow punctuation, or at a full-width comma
    that separates it from another key (``50，solar_mw: 10``) or bracket that closes a flow."""
    for k in range(i, len(text)):
        ch = text[k]
        if in_flow and ch in ",}]":
            return k
        if ch == "\uff0c" and (
            _colon_after_key(text, k + 1, in_flow) or (in_flow and _closes(text, k))
        ):
            return k
        if in_flow and ch in "\uff5d\uff3d" and _closes(text, k):
            return k
    return len(text)


def number_marks(text: str) -> list[int]:
    """The full-width characters of a value that is a number once they are ASCII (``５０``)."""
    if not _NUMBER.fullmatch(text.strip(_SPACES)):
        return []
    return [i for i, ch in enumerate(text) if _is_wide(ch)]


def ascii_marks(text: str) -> list[int]:
    """The full-width characters of a value that is all ASCII once they are (``ｗｅｓｔ``): a
    value with Chinese in it is text, not a slip of the input method."""
    marks = [i for i, ch in enumerate(text) if _is_wide(ch)]
    return marks if _rewrite(text, marks).isascii() else []


#: How to find the characters that must be ASCII, by what the text is: a YAML line (or an
#: entry), a number, or a value that must be ASCII (an identifier, a choice, true/false).
MARKS: dict[str, Callable[[str], list[int]]] = {
    "yaml": yaml_marks,
    "number": number_marks,
    "ascii": ascii_marks,
}


def _rewrite(text: str, marks: list[int]) -> str:
    out: list[str] = []
    skip_spaces = False
    for i, ch in enumerate(text):
        if skip_spaces and ch in _SPACES:
            continue
        skip_spaces = i in marks and ch in _SEPARATOR
        out.append(_SEPARATOR.get(ch, _ascii_of(ch)) if i in marks else ch)
    return "".join(out).rstrip()


def fullwidth_fix(text: str, kind: str = "yaml") -> tuple[list[str], str] | None:
    """(the full-width characters that must be ASCII, the text with them in ASCII), or None
    when there are none; ``kind`` is a key of :data:`MARKS`."""
    marks = MARKS[kind](text)
    if not marks:
        return None
    return list(dict.fromkeys(text[i] for i in marks)), _rewrite(text, marks)


def fullwidth_hint(
    text: str,
    what: str = "it",
    *,
    kind: str = "yaml",
    valid: Callable[[str], bool] | None = None,
) -> str:
    """``"; it contains the full-width '：' (fullwidth colon, U+FF1A): write 'wind_mw: 50' in
    ASCII"``, or ``""`` when no full-width character stands where ASCII is needed. The rewrite
    is offered only when ``valid`` accepts it; otherwise the characters are only named."""
    fix = fullwidth_fix(text, kind)
    if fix is None:
        return ""
    found, fixed = fix
    return fullwidth_message(what, found, fixed if valid is not None and valid(fixed) else None)


def fullwidth_message(what: str, found: list[str], fixed: str | None) -> str:
    """The hint for ``found`` characters: with the ``fixed`` text to write, or, without it,
    what each stands for."""
    named = ", ".join(
        f"'{ch}' ({unicodedata.name(ch, 'full-width').lower()}, U+{ord(ch):04X})" for ch in found
    )
    if fixed is not None:
        return f"; {what} contains the full-width {named}: write '{fixed.strip()}' in ASCII"
    plain = ", ".join(repr(_ascii_of(ch)) for ch in found)
    return (
        f"; {what} contains the full-width {named}, which YAML does not read as {plain}: type "
        "those in ASCII"
    )


#: Where scenario data has errors: the ``loc`` of each (empty when it is valid).
ErrorLocs = Callable[[Any], list[tuple[str | int, ...]]]
#: The same for a scenario file's text, or None when the text does not read as YAML.
TextErrorLocs = Callable[[str], list[tuple[str | int, ...]] | None]


def syntax_hint(text: str, line: int | None) -> str:
    """A hint when a YAML syntax error comes from full-width punctuation (``wind_mw：50``): on
    the error line, or on the line before it (YAML often names the line after the culprit).
    The rewritten line is given only when the file with it reads past the error."""
    if line is None:
        return ""
    rows = text.splitlines()
    fixes = [
        (n, fix)
        for n in (line, line - 1)
        if 1 <= n <= len(rows) and (fix := fullwidth_fix(rows[n - 1])) is not None
    ]
    for n, (found, fixed) in fixes:
        after = syntax_error_line(replace_line(text, n, fixed))
        if after is None or after > line:
            return fullwidth_message(f"line {n}", found, fixed)
    if fixes:
        n, (found, _) = fixes[0]
        return fullwidth_message(f"line {n}", found, None)
    return ""


def key_hint(
    key: str, line: int | None, text: str, parent: tuple[str | int, ...], errors: TextErrorLocs
) -> str:
    """The hint for an unknown key holding full-width punctuation (``wind_mw：50``): its line
    rewritten, when the file reads with it and the mapping at ``parent`` is then valid; else
    the characters are named."""
    if line is None:
        return fullwidth_hint(key)

    def valid(fixed: str) -> bool:
        locs = errors(replace_line(text, line, fixed))
        return locs is not None and not _errors_under(locs, parent)

    row = text.splitlines()[line - 1]
    return fullwidth_hint(row, f"line {line}", valid=valid) or fullwidth_hint(key)


def value_hint(
    value: str, kind: str, data: Any, loc: tuple[str | int, ...], errors: ErrorLocs
) -> str:
    """The hint for a bad text ``value`` at ``loc`` of the scenario ``data`` (``５０００``,
    ``ｔｒｕｅ``): the value in ASCII when, written so, it makes the field valid; ``kind`` is a
    key of :data:`MARKS`."""

    def valid(fixed: str) -> bool:
        trial = copy.deepcopy(data)
        node: Any = trial
        try:
            new = load_yaml(fixed)
            for part in loc[:-1]:
                node = node[part]
            node[loc[-1]] = new
        except (yaml.YAMLError, LookupError, TypeError):
            return False
        return not _errors_under(errors(trial), loc)

    return fullwidth_hint(value, kind=kind, valid=valid)


def _errors_under(locs: list[tuple[str | int, ...]], loc: tuple[str | int, ...]) -> bool:
    return any(e[: len(loc)] == loc for e in locs)


def replace_line(text: str, n: int, row: str) -> str:
    """``text`` with its line ``n`` (1-based) replaced by ``row``."""
    rows = text.splitlines()
    rows[n - 1] = row
    return "\n".join(rows) + "\n"


def syntax_error_line(text: str) -> int | None:
    """The line of the first YAML syntax error in ``text``, 0 when it has none, or None when
    the text reads."""
    try:
        yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        return mark.line + 1 if mark is not None else 0
    except RecursionError:
        return 0
    return None
