"""Read scenario YAML so that a number written without a dot or with an unsigned exponent
(``1e3``, ``9e-1``, ``1.5e3``), which YAML 1.1 reads as text, can still be read as the number.

PyYAML follows YAML 1.1, whose floats need a dot and a signed exponent (``1.0e+3``); YAML 1.2
and every other reader take ``1e3`` as a number. A plain (unquoted) scalar that reads as text
but is written as a decimal or scientific-notation number is loaded as a :class:`PlainNumber`:
text still (a text field keeps it as written), which a numeric field of the schema reads as the
number. A quoted ``"9e-1"`` stays ordinary text, and no number field takes it.
"""

from __future__ import annotations

import math
import re
from typing import Any

import yaml

_NUMBER = re.compile(r"[-+]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?")


class PlainNumber(str):
    """Unquoted YAML text that is written as a number (``1e3``); shown as written."""

    __slots__ = ()

    def __repr__(self) -> str:
        return str(self)

    def number(self) -> float:
        """The number written; ValueError when it is too large for a float (``1e400``)."""
        x = float(self)
        if not math.isfinite(x):
            raise ValueError(f"must be a finite number (got {self})")
        return x


class ScenarioLoader(yaml.SafeLoader):
    """PyYAML's safe loader, with :class:`PlainNumber` for unquoted text written as a number."""


def _text(loader: ScenarioLoader, node: yaml.ScalarNode) -> str:
    value = loader.construct_scalar(node)
    if node.style is None and _NUMBER.fullmatch(value):
        return PlainNumber(value)
    return value


ScenarioLoader.add_constructor("tag:yaml.org,2002:str", _text)


def load_yaml(text: str) -> Any:
    """The YAML ``text`` read with :class:`ScenarioLoader`."""
    return yaml.load(text, Loader=ScenarioLoader)  # a SafeLoader: builds no objects
