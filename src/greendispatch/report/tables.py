"""The report's tables as rows of formatted cells: every metric of every column (policies, and
the oracle's bound when there is one) side by side, utilisation per hub and pool kind, and where
each hub's signals come from (a file or a model)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from greendispatch.report.labels import METRIC_LABELS, SIGNAL_LABELS
from greendispatch.sim.metrics import METRIC_KEYS

if TYPE_CHECKING:
    from greendispatch.sim.runner import Simulation


def _fmt(key: str, value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "是 yes" if value else "否 no"
    if isinstance(value, int):
        return f"{value:,d}"
    if not isinstance(value, float):
        return str(value)
    if not np.isfinite(value):
        return str(value)
    if key.endswith("_share"):
        return f"{value:.1%}"
    if key in ("cost", "energy_mwh", "it_energy_mwh"):
        return f"{value:,.0f}"
    if key.endswith(("_h", "_s", "_tb")):
        return f"{value:,.2f}"
    return f"{value:,.1f}"


def _scalar(v: Any) -> bool:
    return isinstance(v, int | float | bool) or v is None


def metric_keys(columns: list[tuple[str, dict[str, Any]]]) -> list[str]:
    """The documented metric keys first, then every other scalar key, in order of appearance."""
    keys = [k for k in METRIC_KEYS if any(k in m for _, m in columns)]
    for _, m in columns:
        keys += [k for k, v in m.items() if k not in keys and _scalar(v)]
    return keys


def _comparison_rows(
    columns: list[tuple[str, dict[str, Any]]], keys: list[str], units: dict[str, str]
) -> list[dict[str, Any]]:
    rows = []
    base = next((m for name, m in columns if name == "baseline"), None)
    for key in keys:
        label = METRIC_LABELS.get(key, key)
        if key == "cost" and units.get("cost"):
            label += f" ({units['cost']})"
        rows.append(
            {"label": label, "key": key, "cells": [_fmt(key, m.get(key)) for _, m in columns]}
        )
        if key == "carbon_t" and base and base.get("carbon_t"):
            cells = []
            for name, m in columns:
                v = m.get("carbon_t")
                ok = name != "baseline" and isinstance(v, int | float)
                cells.append(f"{v / base['carbon_t'] - 1:+.1%}" if ok else "—")
            rows.append(
                {"label": "相对基线 Carbon vs baseline", "key": "carbon_change", "cells": cells}
            )
    return rows


def _utilisation_rows(doc: dict[str, Any], hubs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    pols = doc.get("policies", {})
    rows = []
    for hub in hubs:
        hub_id = hub["id"]
        kinds: list[str] = []
        for m in pols.values():
            kinds += [k for k in m.get("utilisation", {}).get(hub_id, {}) if k not in kinds]
        for kind in kinds:
            cells = []
            for m in pols.values():
                v = m.get("utilisation", {}).get(hub_id, {}).get(kind)
                cells.append("—" if v is None else f"{v:.1%}")
            rows.append({"hub": hub, "first": kind == kinds[0], "pool": kind, "cells": cells})
    return rows


def _signal_rows(sim: Simulation, hubs: list[dict]) -> tuple[list[str], list[dict], list[str]]:
    meta = sim.signals.meta
    names = [k for k in SIGNAL_LABELS if any(k in m.sources for m in meta)]
    names += [k for m in meta for k in m.sources if k not in names]
    rows = []
    for m, hub in zip(meta, hubs, strict=False):
        cells = []
        for k in names:
            src = m.sources.get(k, "")
            kind = "file" if src.startswith("file") else "modelled" if src else ""
            cells.append({"kind": kind, "text": src})
        rows.append({"hub": hub, "cells": cells})
    notes = list(dict.fromkeys(n for m in meta for n in m.notes))
    return [SIGNAL_LABELS.get(k, k) for k in names], rows, notes


def _modelled_summary(sim: Simulation) -> str:
    meta = sim.signals.meta
    if not meta:
        return ""
    names = list(dict.fromkeys(k for m in meta for k in m.sources))
    everywhere = [k for k in names if all(k in m.modelled for m in meta)]
    somewhere = [k for k in names if k not in everywhere and any(k in m.modelled for m in meta)]
    parts = []
    if everywhere:
        parts.append("所有枢纽 all hubs: " + ", ".join(SIGNAL_LABELS.get(k, k) for k in everywhere))
    for k in somewhere:
        n = sum(k in m.modelled for m in meta)
        parts.append(f"{SIGNAL_LABELS.get(k, k)} ({n} / {len(meta)} hubs)")
    return "; ".join(parts) if parts else "none (every signal read from files)"
