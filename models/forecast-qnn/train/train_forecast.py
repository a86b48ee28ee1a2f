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

The code is split by role: forecast_data.py (series, volatility, features, samples), forecast_model.py (network,
training, ONNX export), forecast_backtest.py (GARCH and EWMA references, backtest) and forecast_report.py (model
card); this file runs them in order.

Usage: /usr/bin/python3 models/forecast-qnn/train/train_forecast.py [--data ../shared/data]
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time

import numpy as np
import torch

from forecast_backtest import backtest
from forecast_data import HORIZONS, LAGS, LAMBDA, MODEL_DIR, N_FEATURES, QUANTILES, REPO, ewma_sigma, features_at, load_series, samples
from forecast_model import SEED, export, train
from forecast_report import write_card

sys.path.insert(0, os.path.join(REPO, "models", "common"))
from baseline import write_baseline  # noqa: E402


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


if __name__ == "__main__":
    main()
