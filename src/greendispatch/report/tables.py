"""The report's tables as rows of formatted cells: every metric of every column (policies, and
the oracle's bound when there is one) side by side, utilisation per hub and pool kind, and where
each hub's signals come from (a file or a model)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from greendispatch.report.labels import (
    COST_PARTS,
    LP_MODES,
    METRIC_LABELS,
    ORACLE_BASIS_ZH,
    ROUNDING_METHODS,
    SIGNAL_LABELS,
)
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
    columns: list[tuple[str, dict[str, Any]]], keys: list[str], currency: str
) -> list[dict[str, Any]]:
    """One row per metric: its label (the cost's with its currency), a formatted cell per column
    and a tone per cell (``better`` / ``worse`` for the change in carbon from the baseline)."""
    rows = []
    base = next((m for name, m in columns if name == "baseline"), None)
    for key in keys:
        label = METRIC_LABELS.get(key, key)
        if key == "cost" and currency:
            label += f" ({currency}，{COST_PARTS})"
        cells = [_fmt(key, m.get(key)) for _, m in columns]
        rows.append({"label": label, "key": key, "cells": cells, "tones": [""] * len(cells)})
        if key == "carbon_t" and base and base.get("carbon_t"):
            cells, tones = [], []
            for name, m in columns:
                v = m.get("carbon_t")
                change = v / base["carbon_t"] - 1 if isinstance(v, int | float) else None
                if name == "baseline" or change is None:
                    cells.append("—")
                    tones.append("")
                else:
                    cells.append(f"{change:+.1%}")
                    tones.append("better" if change < 0 else "worse" if change > 0 else "")
            rows.append(
                {
                    "label": "相对基线 Carbon vs baseline",
                    "key": "carbon_change",
                    "cells": cells,
                    "tones": tones,
                }
            )
    return rows


def _readable(key: str, value: Any) -> str:
    """A value of results.json as text: a mapping as ``key value; ...``, a scalar by _fmt."""
    if isinstance(value, dict):
        return "; ".join(f"{k} {_readable(k, v)}" for k, v in value.items())
    return _fmt(key, value)


def _oracle_rows(oracle: dict[str, Any]) -> list[tuple[str, str]]:
    """The oracle's figures as bilingual (label, text) pairs: tonnes, the rounding gap as a
    percentage, the LP and the rounding in words; keys not known here as ``key value``."""
    o = dict(oracle)
    rows: list[tuple[str, str]] = []
    for key, label in (("bound_t", "下界 Lower bound"), ("rounded_t", "取整调度 Rounded schedule")):
        if isinstance(o.get(key), int | float):
            rows.append((label, _tonnes(o.pop(key))))
    gap = o.pop("rounding_gap", None)
    if isinstance(gap, int | float):
        rows.append(
            ("取整差距 Rounding gap", f"{gap:+.1%}（取整调度相对下界 rounded schedule vs bound）")
        )
    lp = o.pop("lp", None)
    if isinstance(lp, dict):
        lp = dict(lp)
        mode = str(lp.pop("mode", ""))
        parts = [LP_MODES.get(mode, mode)]
        for key, text in (
            ("groups", "{:,} 组 groups"),
            ("columns", "{:,} 列 columns"),
            ("rows", "{:,} 行 rows"),
            ("block_slots", "每个时间块 {:,} 个时段 {:,} slot(s) per time block"),
        ):
            if isinstance(lp.get(key), int):
                n = lp.pop(key)
                parts.append(text.format(n, n))
        parts += [f"{k} {_readable(k, v)}" for k, v in lp.items()]
        rows.append(("线性规划 LP", "，".join(p for p in parts if p)))
    times = _pop_times(o)
    if times:
        rows.append(("耗时 Time", "，".join(times)))
    rounding = o.pop("rounding", None)
    if isinstance(rounding, dict):
        rows.append(("取整方法 Rounding", _rounding_text(rounding)))
    basis = o.pop("basis", None)
    if basis:
        rows.append(("口径 Basis", f"{ORACLE_BASIS_ZH} {basis}."))
    rows += [(k, _readable(k, v)) for k, v in o.items()]
    return rows


def _tonnes(value: float) -> str:
    """Tonnes of CO₂ to 0.1 t, or to 3 significant digits below 10 t (a small test network)."""
    return f"{value:,.1f} t CO₂" if abs(value) >= 10 else f"{value:.3g} t CO₂"


def _pop_times(d: dict[str, Any]) -> list[str]:
    """Take ``build_s`` and ``solve_s`` out of ``d`` as bilingual texts."""
    return [
        f"{zh} {en} {d.pop(key):,.1f} s"
        for key, zh, en in (("build_s", "构建", "build"), ("solve_s", "求解", "solve"))
        if isinstance(d.get(key), int | float)
    ]


def _rounding_text(rounding: dict[str, Any]) -> str:
    r = dict(rounding)
    method = str(r.pop("method", ""))
    parts = [ROUNDING_METHODS.get(method, method)]
    if isinstance(r.get("milp_t"), int | float):
        parts.append(_tonnes(r.pop("milp_t")))
    if isinstance(r.get("optimal"), bool):
        parts.append(
            "已证明最优 proven optimal" if r.pop("optimal") else "未证明最优 not proven optimal"
        )
    if isinstance(r.get("mip_gap"), int | float):
        parts.append(f"MIP 差距 gap {r.pop('mip_gap'):.2%}")
    n_bin = r.pop("milp_binaries", None)
    failed = r.pop("milp", None)  # the MILP ran and found no schedule in its time limit
    if isinstance(n_bin, int):
        over = method == "heuristic" and failed is None
        parts.append(
            f"MILP 需 {n_bin:,} 个二元变量 binaries" + ("，超出上限 over the limit" if over else "")
        )
    if failed is not None:
        parts.append(f"MILP 未找到调度 {failed}")
    parts += _pop_times(r) + [f"{k} {_readable(k, v)}" for k, v in r.items()]
    return "，".join(parts)


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


def _tenant_rows(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """Per tenant: its jobs and, per policy, the deadlines it missed (``misses / jobs``)."""
    pols = doc.get("policies", {})
    names: list[str] = []
    for m in pols.values():
        names += [k for k in m.get("tenants", {}) if k not in names]
    rows = []
    for name in names:
        cells = []
        for m in pols.values():
            t = m.get("tenants", {}).get(name)
            cells.append("—" if t is None else f"{t['deadline_misses']:,} / {t['jobs']:,}")
        rows.append({"tenant": name, "cells": cells})
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


def _modelled_summary(sim: Simulation) -> tuple[str, bool]:
    """Which signals are modelled (at every hub, or at how many), bilingual, and whether any
    signal of any hub is read from a data file."""
    meta = sim.signals.meta
    if not meta:
        return "", False
    names = list(dict.fromkeys(k for m in meta for k in m.sources))
    everywhere = [k for k in names if all(k in m.modelled for m in meta)]
    somewhere = [k for k in names if k not in everywhere and any(k in m.modelled for m in meta)]
    parts = []
    if everywhere:
        parts.append("所有枢纽 all hubs: " + ", ".join(SIGNAL_LABELS.get(k, k) for k in everywhere))
    for k in somewhere:
        n = sum(k in m.modelled for m in meta)
        parts.append(f"{SIGNAL_LABELS.get(k, k)} ({n} / {len(meta)} 个枢纽 hubs)")
    files = any(k not in m.modelled for m in meta for k in m.sources)
    if not parts:
        return "无 none（所有信号均读取自数据文件 every signal is read from files）", files
    return "; ".join(parts), files
