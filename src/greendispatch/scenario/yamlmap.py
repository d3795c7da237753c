"""Parse YAML keeping the line of every key and item, so errors can name ``file:LINE``."""

from __future__ import annotations

from typing import Any

import yaml

from greendispatch.errors import Problem

Loc = tuple[str | int, ...]


def format_loc(loc: Loc) -> str:
    """``("hubs", 2, "pools", 0, "devices")`` -> ``hubs[2].pools[0].devices``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def parse_yaml_with_lines(text: str, path: str) -> tuple[Any, dict[Loc, int], list[Problem]]:
    """Load YAML text; return (data, line of each location, problems).

    Duplicate keys are problems (PyYAML would silently keep the last one).
    """
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        what = getattr(exc, "problem", None) or str(exc)
        return None, {}, [Problem(path, line, "", f"not valid YAML: {what}")]
    lines: dict[Loc, int] = {}
    problems: list[Problem] = []
    if root is None:
        return None, lines, [Problem(path, 1, "", "the file is empty; expected a scenario mapping")]

    def walk(node: yaml.Node, loc: Loc) -> None:
        lines[loc] = node.start_mark.line + 1
        if isinstance(node, yaml.MappingNode):
            seen: set[str] = set()
            for k, v in node.value:
                key = k.value if isinstance(k, yaml.ScalarNode) else str(k)
                if key in seen:
                    problems.append(
                        Problem(
                            path, k.start_mark.line + 1, format_loc((*loc, key)), "duplicate key"
                        )
                    )
                seen.add(key)
                lines[(*loc, key)] = k.start_mark.line + 1
                walk(v, (*loc, key))
                lines[(*loc, key)] = k.start_mark.line + 1
        elif isinstance(node, yaml.SequenceNode):
            for i, item in enumerate(node.value):
                walk(item, (*loc, i))

    walk(root, ())
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:  # constructor errors (bad tags, ...)
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        return None, lines, [Problem(path, line, "", f"not valid YAML: {exc}")]
    return data, lines, problems


def line_of(lines: dict[Loc, int], loc: Loc) -> int | None:
    """Line of ``loc``, or of its nearest ancestor present in the file."""
    while True:
        if loc in lines:
            return lines[loc]
        if not loc:
            return None
        loc = loc[:-1]
