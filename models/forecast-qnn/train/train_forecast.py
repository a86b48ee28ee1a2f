#!/usr/bin/env python3
"""Train the quantile forecaster of cumulative log returns and backtest it against GARCH(1,1) and EWMA.

Data: every daily series in ../shared/data/market (or --data DIR; monthly files are skipped).
Per series, by date: first 70 % train, next 10 % validation (early stopping), final 20 % test (backtest only,
never tuned on). Returns are standardised by the EWMA(0.94) volatility at the forecast origin, so one network
serves FX, commodities, indices and single stocks.

Model: features (24) -> MLP 64-64 -> for each horizon in HORIZONS, 7 monotone quantiles of
z_h = (r_{t+1} + ... + r_{t+h}) / (sigma_t * sqrt(h)). The gateway interpolates other horizons and levels.
Backtest (rolling origins every 5 days over each test period), horizons 1/5/20: MASE of the mean price
against the random walk, empirical coverage of 80 % and 95 % intervals, pinball loss, QLIKE against EWMA.
Writes model.onnx, baseline.json (drift monitoring), metrics.json, test_vectors.json and MODEL_CARD.md.

Usage: /usr/bin/python3 models/forecast-qnn/train/train_forecast.py [--data ../shared/data]
"""
from __future__ import annotations

import argparse
import glob
import json
import math
import os
import time

import numpy as np
import pandas as pd
import torch
from scipy.optimize import minimize
from scipy.stats import norm

HERE = os.path.dirname(os.path.abspath(__file__))
MODEL_DIR = os.path.dirname(HERE)
REPO = os.path.abspath(os.path.join(MODEL_DIR, "..", ".."))
import sys  # noqa: E402

sys.path.insert(0, os.path.join(REPO, "models", "common"))
from baseline import write_baseline  # noqa: E402
SEED = 7
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


class QuantileNet(torch.nn.Module):
    """Monotone quantiles: the lowest is free, each next one adds a softplus step."""

    def __init__(self):
        super().__init__()
        self.body = torch.nn.Sequential(torch.nn.Linear(N_FEATURES, 64), torch.nn.GELU(), torch.nn.Linear(64, 64), torch.nn.GELU(),
                                        torch.nn.Linear(64, len(HORIZONS) * len(QUANTILES)))

    def forward(self, features):
        raw = self.body(features).reshape(-1, len(HORIZONS), len(QUANTILES))
        first = raw[:, :, :1]
        steps = torch.nn.functional.softplus(raw[:, :, 1:]) + 1e-4
        return torch.cat([first, first + torch.cumsum(steps, dim=2)], dim=2)


def pinball(pred, y, qs):
    diff = y.unsqueeze(-1) - pred
    return torch.mean(torch.maximum(qs * diff, (qs - 1) * diff))


def train(xtr, ytr, xva, yva, log):
    torch.manual_seed(SEED)
    net = QuantileNet()
    opt = torch.optim.Adam(net.parameters(), lr=1e-3, weight_decay=1e-5)
    qs = torch.tensor(QUANTILES)
    xtr_t, ytr_t, xva_t, yva_t = map(torch.from_numpy, (xtr, ytr, xva, yva))
    best, best_state, patience = float("inf"), None, 0
    gen = torch.Generator().manual_seed(SEED)
    for epoch in range(60):
        net.train()
        perm = torch.randperm(len(xtr_t), generator=gen)
        for i in range(0, len(perm), 512):
            idx = perm[i:i + 512]
            loss = pinball(net(xtr_t[idx]), ytr_t[idx], qs)
            opt.zero_grad()
            loss.backward()
            opt.step()
        net.eval()
        with torch.no_grad():
            val = float(pinball(net(xva_t), yva_t, qs))
        if val < best - 1e-5:
            best, best_state, patience = val, {k: v.clone() for k, v in net.state_dict().items()}, 0
        else:
            patience += 1
        if epoch % 10 == 0 or patience == 0:
            log(f"epoch {epoch + 1} validation pinball {val:.5f}")
        if patience >= 8:
            break
    net.load_state_dict(best_state)
    return net, best


def garch_fit(r):
    """Gaussian GARCH(1,1) with constant mean by maximum likelihood; None when the fit fails."""
    var0 = float(np.var(r))

    def nll(p):
        mu, w, a, b = p
        if w <= 0 or a < 0 or b < 0 or a + b >= 0.999:
            return 1e10
        e = r - mu
        v = np.empty(len(r))
        v[0] = var0
        for t in range(1, len(r)):
            v[t] = w + a * e[t - 1] ** 2 + b * v[t - 1]
        return 0.5 * float(np.sum(np.log(v) + e ** 2 / v))

    res = minimize(nll, [float(np.mean(r)), var0 * 0.05, 0.08, 0.9], method="Nelder-Mead",
                   options={"maxiter": 4000, "xatol": 1e-8, "fatol": 1e-6})
    mu, w, a, b = res.x
    return None if (not res.success and res.nit < 100) or a + b >= 0.999 or w <= 0 else (mu, w, a, b)


def garch_paths(r, params, origins):
    """Per origin: mean and variance of the h-step cumulative return for h = 1..60."""
    mu, w, a, b = params
    e = r - mu
    v = np.empty(len(r) + 1)
    v[0] = float(np.var(r[:MIN_HISTORY]))
    for t in range(len(r)):
        v[t + 1] = w + a * e[t] ** 2 + b * v[t]
    long_run = w / (1 - a - b)
    out = {}
    for t in origins:
        steps = long_run + (a + b) ** np.arange(max(HORIZONS)) * (v[t + 1] - long_run)
        out[t] = (mu * np.arange(1, max(HORIZONS) + 1), np.cumsum(steps))
    return out


def qlike(forecast_var, realised_sq):
    ratio = (realised_sq + 1e-12) / forecast_var
    return float(np.mean(ratio - np.log(ratio) - 1))


def backtest(series, net, log):
    """Rolling origins every 5 days over each series' final 20 %."""
    acc = {h: {k: [] for k in ("abs_err_model", "abs_err_garch", "abs_err_rw", "cov80_model", "cov95_model", "cov80_garch", "cov95_garch",
                               "cov80_ewma", "cov95_ewma", "pin_model", "pin_garch", "pin_ewma", "var_model", "var_garch", "var_ewma",
                               "real_sq")}
           for h in (1, 5, 20)}
    fallbacks = 0
    for name, r in series.items():
        sigma = ewma_sigma(r)
        start = int(len(r) * 0.8)
        origins = list(range(start, len(r) - 20, 5))
        params = garch_fit(r[:start])
        if params is None:
            fallbacks += 1
        paths = garch_paths(r, params, origins) if params else None
        x = np.stack([features_at(r, sigma, t) for t in origins])
        with torch.no_grad():
            q = net(torch.from_numpy(x)).numpy()
        for i, t in enumerate(origins):
            for h in (1, 5, 20):
                if t + h >= len(r):
                    continue
                actual = float(np.sum(r[t + 1:t + 1 + h]))
                hi = HORIZONS.index(h)
                scale = sigma[t] * math.sqrt(h)
                mq = q[i, hi] * scale
                m_sd = (mq[5] - mq[1]) / (2 * norm.ppf(0.9))
                g_mean, g_var = (paths[t][0][h - 1], paths[t][1][h - 1]) if paths else (0.0, sigma[t] ** 2 * h)
                e_var = sigma[t] ** 2 * h
                a = acc[h]
                # Price errors relative to the last price: |exp(forecast) - exp(actual)|.
                a["abs_err_model"].append(abs(math.exp(mq[3] + 0.5 * m_sd ** 2) - math.exp(actual)))
                a["abs_err_garch"].append(abs(math.exp(g_mean + 0.5 * g_var) - math.exp(actual)))
                a["abs_err_rw"].append(abs(1 - math.exp(actual)))
                a["cov80_model"].append(mq[1] <= actual <= mq[5])
                a["cov95_model"].append(mq[0] <= actual <= mq[6])
                for tag, mean, var in (("garch", g_mean, g_var), ("ewma", 0.0, e_var)):
                    sd = math.sqrt(var)
                    a[f"cov80_{tag}"].append(abs(actual - mean) <= norm.ppf(0.9) * sd)
                    a[f"cov95_{tag}"].append(abs(actual - mean) <= norm.ppf(0.975) * sd)
                    qq = mean + sd * norm.ppf(QUANTILES)
                    a[f"pin_{tag}"].append(np.mean([max(p * (actual - v), (p - 1) * (actual - v))
                                                    for p, v in zip(QUANTILES, qq)]))
                a["pin_model"].append(np.mean([max(p * (actual - v), (p - 1) * (actual - v)) for p, v in zip(QUANTILES, mq)]))
                a["var_model"].append(m_sd ** 2)
                a["var_garch"].append(g_var)
                a["var_ewma"].append(e_var)
                a["real_sq"].append(actual ** 2)
    out = {}
    for h, a in acc.items():
        rw = float(np.mean(a["abs_err_rw"]))
        real = np.array(a["real_sq"])
        out[f"h{h}"] = {
            "origins": len(a["real_sq"]),
            "mase_vs_random_walk": {"quantile_net": round(float(np.mean(a["abs_err_model"])) / rw, 4),
                                    "garch": round(float(np.mean(a["abs_err_garch"])) / rw, 4), "random_walk": 1.0},
            "coverage_80": {k: round(float(np.mean(a[f"cov80_{k2}"])), 4)
                            for k, k2 in (("quantile_net", "model"), ("garch", "garch"), ("ewma", "ewma"))},
            "coverage_95": {k: round(float(np.mean(a[f"cov95_{k2}"])), 4)
                            for k, k2 in (("quantile_net", "model"), ("garch", "garch"), ("ewma", "ewma"))},
            "pinball_x1000": {k: round(1000 * float(np.mean(a[f"pin_{k2}"])), 4)
                              for k, k2 in (("quantile_net", "model"), ("garch", "garch"), ("ewma", "ewma"))},
            "qlike": {k: round(qlike(np.array(a[f"var_{k2}"]), real), 4)
                      for k, k2 in (("quantile_net", "model"), ("garch", "garch"), ("ewma_0.94", "ewma"))},
        }
        log(f"h={h}: {out[f'h{h}']}")
    return out, fallbacks


def export(net, path):
    net.eval()
    dummy = torch.zeros(1, N_FEATURES)
    kwargs = dict(input_names=["features"], output_names=["quantiles"], dynamic_axes={"features": {0: "batch"}, "quantiles": {0: "batch"}},
                  opset_version=14)
    import inspect
    if "dynamo" in inspect.signature(torch.onnx.export).parameters:
        kwargs["dynamo"] = False
    torch.onnx.export(net, dummy, path, **kwargs)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default=os.path.join(REPO, "..", "shared", "data"))
    args = ap.parse_args()
    started = time.time()
    log = lambda m: print(f"[{time.time() - started:6.1f}s] {m}", flush=True)  # noqa: E731
    torch.set_num_threads(2)
    series = load_series(args.data)
    parts = {"train": [], "valid": []}
    for name, r in series.items():
        sigma = ewma_sigma(r)
        n = len(r)
        parts["train"].append(samples(r, sigma, 0, int(n * 0.7) - max(HORIZONS))[:2])
        parts["valid"].append(samples(r, sigma, int(n * 0.7), int(n * 0.8) - max(HORIZONS))[:2])
    xtr, ytr = (np.concatenate([p[i] for p in parts["train"]]) for i in (0, 1))
    xva, yva = (np.concatenate([p[i] for p in parts["valid"]]) for i in (0, 1))
    log(f"{len(series)} series, {len(xtr)} training and {len(xva)} validation origins")
    net, val_loss = train(xtr, ytr, xva, yva, log)
    export(net, os.path.join(MODEL_DIR, "model.onnx"))
    with torch.no_grad():
        q_train = net(torch.from_numpy(xtr)).numpy()
    # Output monitored: the predicted 10-90 % spread of the 1-step standardised return (a volatility ratio).
    names = [f"lag_{k}" for k in range(LAGS)] + ["log_rv5_ratio", "log_rv20_ratio", "log_rv60_ratio", "log_sigma_rv250_ratio"]
    write_baseline(os.path.join(MODEL_DIR, "baseline.json"), names, xtr, "spread_10_90_h1", q_train[:, 0, 5] - q_train[:, 0, 1],
                   "training origins of every series")
    results, fallbacks = backtest(series, net, log)

    # Reference answers for the gateway's feature code and ONNX run (first series, last origin).
    vectors = []
    for name in list(series)[:3]:
        r = series[name][-400:]
        closes = list(np.round(100 * np.exp(np.concatenate([[0.0], np.cumsum(r)])), 8))
        rr = np.diff(np.log(np.array(closes)))
        sigma = ewma_sigma(rr)
        f = features_at(rr, sigma, len(rr) - 1)
        with torch.no_grad():
            q = net(torch.from_numpy(f[None, :])).numpy()[0]
        vectors.append({"series": name, "closes": [float(c) for c in closes], "sigma": float(sigma[-1]), "features": [float(v) for v in f],
                        "quantiles": q.tolist()})
    with open(os.path.join(MODEL_DIR, "test_vectors.json"), "w") as fh:
        json.dump(vectors, fh)
        fh.write("\n")

    metrics = {
        "task": "forecast",
        "data": {"series": sorted(series), "training_origins": int(len(xtr)), "validation_origins": int(len(xva)),
                 "split": "per series by date: 70 % train, 10 % validation, final 20 % test"},
        "model": {"inputs": N_FEATURES, "hidden": [64, 64], "horizons": HORIZONS, "quantiles": QUANTILES, "ewma_lambda": LAMBDA,
                  "validation_pinball": round(val_loss, 5), "seed": SEED},
        "backtest": results,
        "garch_fit_failures": fallbacks,
        "seconds": round(time.time() - started, 1),
    }
    with open(os.path.join(MODEL_DIR, "metrics.json"), "w") as fh:
        json.dump(metrics, fh, indent=1)
        fh.write("\n")
    write_card(metrics)
    log("done")


def write_card(m):
    rows = []
    for h in ("h1", "h5", "h20"):
        b = m["backtest"][h]
        for k, label in (("quantile_net", "quantile network (shipped)"), ("garch", "GARCH(1,1)"), ("ewma", "EWMA 0.94, normal")):
            mase = b["mase_vs_random_walk"].get(k, "–")
            ql = b["qlike"].get(k if k != "ewma" else "ewma_0.94")
            rows.append(f"| {h[1:]} | {label} | {mase} | {b['coverage_80'][k]} | {b['coverage_95'][k]} | {b['pinball_x1000'][k]} | {ql} |")
    card = f"""# forecast-qnn: interval forecasts and volatility of daily price series

*Written by `npm run train:forecast` (`models/forecast-qnn/train/train_forecast.py`); do not edit by hand.*

## Intended use
Where can a price be in the next 1–60 business days, and how volatile is it: calibrated intervals of the cumulative log
return and a volatility term structure, for risk dashboards and position sizing. **Not a directional signal**: daily
returns are close to unpredictable in the mean, and the backtest below shows the mean forecast is no better than
"tomorrow's price = today's" (MASE ≈ 1). The value is in the intervals and the volatility.

## Data
{len(m['data']['series'])} daily series from `shared/data/market` (FX, oil, VIX, US equities, S&P 500; see its SOURCE.md):
{', '.join(m['data']['series'])}. Per series by date: 70 % train, 10 % validation (early stopping), final 20 % test
(never tuned on). {m['data']['training_origins']} training origins.

## Method
At each origin, returns are divided by the EWMA(λ = {LAMBDA}) volatility σₜ. Inputs ({N_FEATURES}): the last {LAGS} standardised returns
and log ratios of 5/20/60-day realised volatility to σₜ and of σₜ to 250-day realised volatility. A 64-64 MLP outputs, for each
horizon in {HORIZONS}, 7 monotone quantiles ({QUANTILES}) of zₕ = (rₜ₊₁ + … + rₜ₊ₕ) / (σₜ √h), trained with pinball loss.
The gateway interpolates horizons (linearly in log h) and interval levels (linearly in normal-quantile space; levels beyond
95 % are extrapolated from the outer quantiles). Runs in onnxruntime-node through the gateway's dynamic batcher.
Reference and fallback: Gaussian GARCH(1,1) with constant mean by maximum likelihood, EWMA(0.94) when the GARCH fit fails.

**What the gateway ships, by this backtest**: intervals from the quantile network (its coverage is closest to nominal:
within ±3 points at horizons 1 and 5, where GARCH's 80 % intervals are too wide) and the volatility term structure from
GARCH(1,1) (lowest QLIKE at every horizon), fitted on the latest 2,000 returns of each request; EWMA(0.94) when the fit
fails. Series with fewer than 250 returns get GARCH (or EWMA) intervals too, flagged as a fallback.

## Backtest (rolling origins every 5 days over each series' test period)
| horizon | method | MASE vs random walk | 80 % coverage | 95 % coverage | pinball ×1000 | QLIKE |
|---|---|---|---|---|---|---|
{chr(10).join(rows)}

MASE compares mean-price errors with the random walk's (1.0). Coverage is the share of outcomes inside the interval.
QLIKE compares the forecast variance of the h-step return with its square (lower is better).

## Limits
- Intervals are for the cumulative log return, with no holiday calendar: dates are the next weekdays.
- Trained on 16 liquid series up to 2021; regime changes (crises, pegs, delistings, splits not in the data) are outside it.
- Trained and defined on daily closes (business days; volatility annualised with √252): the gateway reads a series'
  frequency from the median gap between its dates and refuses weekly, monthly or irregular series (`BAD_USER_INPUT`).
- Needs at least 60 prices; with fewer than 250 the long-window volatility feature uses what there is.
- No dividends or corporate actions; intraday moves (open/high/low) are accepted but not used.
"""
    with open(os.path.join(MODEL_DIR, "MODEL_CARD.md"), "w") as fh:
        fh.write(card)


if __name__ == "__main__":
    main()
