"""Forecast report: MODEL_CARD.md from the metrics."""
from __future__ import annotations

import os

from forecast_data import HORIZONS, LAGS, LAMBDA, MODEL_DIR, N_FEATURES, QUANTILES


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
