"""Forecast backtest: the GARCH(1,1) and EWMA references, QLIKE, and the rolling-origin backtest of the test periods."""
from __future__ import annotations

import math

import numpy as np
import torch
from scipy.optimize import minimize
from scipy.stats import norm

from forecast_data import HORIZONS, MIN_HISTORY, QUANTILES, ewma_sigma, features_at


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
