"""Training baselines for drift monitoring: per-feature bins and the output distribution.

The gateway compares a rolling window of live inputs and outputs with these by the Population
Stability Index; the bins are training-data deciles (fewer when a feature has few distinct values).
"""
from __future__ import annotations

import json

import numpy as np


def profile(name: str, values: np.ndarray, bins: int = 10) -> dict:
    values = np.asarray(values, dtype=np.float64)
    edges = np.unique(np.quantile(values, np.linspace(0, 1, bins + 1)[1:-1]))
    # A value v falls in bin searchsorted(edges, v, 'right'): the gateway uses the same rule.
    counts = np.bincount(np.searchsorted(edges, values, side="right"), minlength=len(edges) + 1)
    return {"name": name, "edges": [float(e) for e in edges], "expected": [round(float(c) / len(values), 6) for c in counts]}


def write_baseline(path: str, feature_names: list[str], features: np.ndarray, output_name: str, outputs: np.ndarray, source: str) -> None:
    baseline = {
        "source": source,
        "rows": int(len(features)),
        "features": [profile(n, features[:, j]) for j, n in enumerate(feature_names)],
        "output": profile(output_name, outputs),
    }
    with open(path, "w") as f:
        json.dump(baseline, f, indent=1)
        f.write("\n")
