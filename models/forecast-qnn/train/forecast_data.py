"""Forecast data: the daily series, the EWMA volatility, the model's input features and the training samples."""
from __future__ import annotations

import glob
import math
import os

import numpy as np
import pandas as pd

HERE = os.path.dirname(os.path.abspath(__file__))
MODEL_DIR = os.path.dirname(HERE)
REPO = os.path.abspath(os.path.join(MODEL_DIR, "..", ".."))


LAMBDA = 0.94
LAGS = 20
HORIZONS = [1, 2, 3, 5, 10, 20, 40, 60]
QUANTILES = [0.025, 0.1, 0.25, 0.5, 0.75, 0.9, 0.975]
MIN_HISTORY = 250
N_FEATURES = LAGS + 4


def ewma_sigma(r: np.ndarray) -> np.ndarray:
    """sigma[t]: EWMA volatility after observing r[t] (the forecast for t+1). Seeded with the first 20 returns."""
    var = np.empty(len(r))
    v = float(np.mean(r[:20] ** 2)) if len(r) >= 20 else float(np.mean(r ** 2))
    for t, x in enumerate(r):
        v = LAMBDA * v + (1 - LAMBDA) * x * x
        var[t] = v
    return np.sqrt(np.maximum(var, 1e-12))


def features_at(r: np.ndarray, sigma: np.ndarray, t: int) -> np.ndarray:
    """Model input at origin t (uses r[..t] only); src/domains/forecasting/forecast.features.ts mirrors it."""
    s = sigma[t]
    lags = np.clip(r[t - LAGS + 1:t + 1][::-1] / s, -10, 10)
    rv = lambda n: math.sqrt(float(np.mean(r[max(0, t - n + 1):t + 1] ** 2)) + 1e-12)  # noqa: E731
    return np.array([*lags, math.log(rv(5) / s), math.log(rv(20) / s), math.log(rv(60) / s), math.log(s / rv(250))], dtype=np.float32)


def load_series(root: str):
    out = {}
    for path in sorted(glob.glob(os.path.join(root, "market", "*.csv"))):
        name = os.path.basename(path)[:-4]
        if name.endswith("_monthly"):
            continue
        close = pd.read_csv(path)["close"].to_numpy(dtype=float)
        close = close[close > 0]  # a non-positive price (WTI, 2020-04-20) has no log return
        out[name] = np.diff(np.log(close))
    return out


def samples(r, sigma, lo, hi):
    x, y, origins = [], [], []
    for t in range(max(lo, MIN_HISTORY), min(hi, len(r) - max(HORIZONS))):
        x.append(features_at(r, sigma, t))
        cum = np.cumsum(r[t + 1:t + 1 + max(HORIZONS)])
        y.append([cum[h - 1] / (sigma[t] * math.sqrt(h)) for h in HORIZONS])
        origins.append(t)
    return np.array(x, np.float32), np.array(y, np.float32), origins
