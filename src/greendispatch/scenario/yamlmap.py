"""Parse YAML keeping the line of every key and item, so errors can name ``file:LINE``."""

from __future__ import annotations

from typing import Any

import yaml

from greendispatch.errors import Problem
from greendispatch.scenario.fullwidth import syntax_hint
from greendispatch.scenario.yamlnumbers import load_yaml

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


# A scenario has at most a few thousand values; an alias bomb ("billion laughs") has billions.
MAX_NODES = 1_000_000


def expanded_size(root: yaml.Node) -> int:
    """How many nodes the document has once every alias is expanded (aliases share their node,
    so a few lines can stand for billions); without recursion, each node counted once."""
    size: dict[int, int] = {}
    open_: set[int] = set()  # nodes whose children are still being counted
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        key = id(node)
        if key in size:
            continue
        kids = _children(node)
        if done or not kids:
            size[key] = min(1 + sum(size[id(k)] for k in kids), MAX_NODES + 1)
            open_.discard(key)
            continue
        if key in open_:  # an alias inside its own anchor: endless
            return MAX_NODES + 1
        open_.add(key)
        stack.append((node, True))
        stack.extend((k, False) for k in kids if id(k) not in size)
    return size[id(root)]


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def parse_yaml_with_lines(text: str, path: str) -> tuple[Any, dict[Loc, int], list[Problem]]:
    """Load YAML text; return (data, line of each location, problems).

    Duplicate keys are problems (PyYAML would silently keep the last one). So are keys that are
    not text (``1:``, ``~:``, ``yes:``, ``[a, b]:``), each at its line, and then no data is
    returned: a list as a key cannot be loaded, and the schema ignores such keys below the top.
    """
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        what = f"{getattr(exc, 'problem', None) or exc}{syntax_hint(text, line)}"
        return None, {}, [Problem(path, line, "", f"not valid YAML: {what}")]
    except RecursionError:
        return None, {}, [Problem(path, None, "", "nested too deeply; expected a scenario mapping")]
    lines: dict[Loc, int] = {}
    problems: list[Problem] = []
    if root is None:
        return None, lines, [Problem(path, 1, "", "the file is empty; expected a scenario mapping")]
    if expanded_size(root) > MAX_NODES:
        msg = (f"expands to more than {MAX_NODES:,} values through its aliases (*name); "
               "expected a scenario")  # fmt: skip
        return None, {}, [Problem(path, None, "", msg)]

    not_text: set[int] = set()  # key nodes reported (an alias repeats them)

    def walk(node: yaml.Node, loc: Loc) -> None:
        lines[loc] = node.start_mark.line + 1
        if isinstance(node, yaml.MappingNode):
            seen: set[str] = set()
            for k, v in node.value:
                if not isinstance(k, yaml.ScalarNode) or k.tag not in _TEXT_KEYS:
                    if id(k) not in not_text:
                        written = " ".join(text[k.start_mark.index : k.end_mark.index].split())
                        msg = f"keys must be text; got {written or 'an empty key'}"
                        problems.append(Problem(path, k.start_mark.line + 1, format_loc(loc), msg))
                    not_text.add(id(k))
                    continue
                key = k.value
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
    if not_text:
        return None, lines, problems
    try:
        data = load_yaml(text)
    except yaml.YAMLError as exc:  # constructor errors (bad tags, ...)
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        return None, lines, [Problem(path, line, "", f"not valid YAML: {exc}")]
    return data, lines, problems


#: Tags of the keys a scenario may have: text, and YAML's merge key ``<<`` (and ``=``).
_TEXT_KEYS = {"tag:yaml.org,2002:str", "tag:yaml.org,2002:merge", "tag:yaml.org,2002:value"}


def line_of(lines: dict[Loc, int], loc: Loc) -> int | None:
    """Line of ``loc``, or of its nearest ancestor present in the file."""
    while True:
        if loc in lines:
            return lines[loc]
        if not loc:
            return None
        loc = loc[:-1]
