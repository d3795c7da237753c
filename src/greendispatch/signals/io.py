"""Write built signals to files: one long CSV (time x hub) and a JSON of their provenance."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from greendispatch.signals.build import SIGNAL_NAMES, Signals


def signals_frame(signals: Signals) -> pd.DataFrame:
    """Long table: one row per hub and slot, one column per signal."""
    n_hubs, n_slots = signals.ci_g_per_kwh.shape
    idx = signals.grid.index()
    data: dict[str, object] = {
        "time_utc": np.tile(idx.strftime("%Y-%m-%dT%H:%M:%SZ").to_numpy(), n_hubs),
        "hub": np.repeat(np.array(signals.hub_ids, dtype=object), n_slots),
    }
    for name in SIGNAL_NAMES:
        data[name] = np.round(signals.array(name).reshape(-1), 6)
    return pd.DataFrame(data)


def write_signals(signals: Signals, out_dir: Path, stem: str) -> tuple[Path, Path]:
    """Write ``<stem>-signals.csv`` and ``<stem>-signals-meta.json`` into ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    csv_path = out_dir / f"{stem}-signals.csv"
    meta_path = out_dir / f"{stem}-signals-meta.json"
    tmp = csv_path.with_suffix(".csv.tmp")
    signals_frame(signals).to_csv(tmp, index=False)
    tmp.replace(csv_path)  # never leave a half-written file under the real name
    meta = {
        "grid": {
            "start": signals.grid.start.isoformat(),
            "n_slots": signals.grid.n_slots,
            "dt_h": signals.grid.dt_h,
        },
        "units": {
            "ci_g_per_kwh": "gCO2/kWh (direct, location-based)",
            "ci_lca_g_per_kwh": "gCO2eq/kWh (life cycle)",
            "renewable_share": "fraction 0..1",
            "low_carbon_share": "fraction 0..1",
            "price_per_mwh": "currency per MWh (see hubs[].currency)",
            "temp_c": "degC",
            "solar_pu": "MW AC per MW nameplate",
            "wind_pu": "MW AC per MW nameplate",
            "pue": "facility / IT energy",
        },
        "hubs": [
            {"id": m.hub_id, "currency": m.currency, "sources": m.sources, "notes": list(m.notes)}
            for m in signals.meta
        ],
    }
    meta_path.write_text(json.dumps(meta, indent=2, ensure_ascii=False), encoding="utf-8")
    return csv_path, meta_path
