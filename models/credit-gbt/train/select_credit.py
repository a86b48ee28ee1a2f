#!/usr/bin/env python3
"""Feature and method selection study for credit-gbt, on the fit rows only (the test split is never read here).

Repeated stratified 5-fold cross-validation (4 repeats) with the shipped hyperparameters:
- HistGradientBoosting on four feature sets: without and with the two balance-history features (volatility,
  total payment ratio), and without and with the default-rate encodings of education and repayment status
  (fitted inside each fold);
- on the last feature set, XGBoost alone and the average of both models' log-odds (the shipped champion).
Writes selection.json: mean AUC per variant and its paired difference from the first, fold by fold.

Usage: /usr/bin/python3 models/credit-gbt/train/select_credit.py [--data ../shared/data]
"""
from __future__ import annotations

import argparse
import json
import os

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import RepeatedStratifiedKFold, train_test_split

from train_credit import (FEATURE_NAMES, HYPERPARAMETERS, MODEL_DIR, REPO, SEED, XGB_HYPERPARAMETERS, XGB_ROUNDS, feature_matrix,
                          fit_encodings, fit_xgb, load, subset, xgb_margin)

NEW_FEATURES = ["bill_volatility", "total_payment_ratio"]
PREVIOUS = "encoded codes, with them: HistGradientBoosting alone (2.0.0)"
XGBOOST = "encoded codes, with them: XGBoost alone"
CHAMPION = "encoded codes, with them: average of both models' log-odds (2.1.0, shipped)"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default=os.path.join(REPO, "..", "shared", "data"))
    args = ap.parse_args()
    _, raw, y = load(os.path.join(args.data, "credit", "credit_card_default.csv"))
    rest, _ = train_test_split(np.arange(len(y)), test_size=0.2, stratify=y, random_state=SEED)
    without_new = [i for i, n in enumerate(FEATURE_NAMES) if n not in NEW_FEATURES]
    variants = {"codes as numbers, without the two balance-history features": (without_new, False),
                "codes as numbers, with them": (None, False),
                "encoded codes, without them": (without_new, True),
                PREVIOUS: (None, True)}
    aucs = {name: [] for name in [*variants, XGBOOST, CHAMPION]}
    splits = RepeatedStratifiedKFold(n_splits=5, n_repeats=4, random_state=23).split(rest, y[rest])
    for k, (tr, va) in enumerate(splits):
        r, v = rest[tr], rest[va]
        enc = fit_encodings(subset(raw, r), y[r])
        for name, (cols, encoded) in variants.items():
            xr, xv = (feature_matrix(subset(raw, rows), enc if encoded else None) for rows in (r, v))
            if cols is not None:
                xr, xv = xr[:, cols], xv[:, cols]
            hgb = HistGradientBoostingClassifier(**HYPERPARAMETERS, random_state=k).fit(xr, y[r]).decision_function(xv)
            aucs[name].append(roc_auc_score(y[v], hgb))
        # the last variant's rows and margins go on into the two other methods
        boosted = xgb_margin(fit_xgb(xr, y[r], k), xv)
        aucs[XGBOOST].append(roc_auc_score(y[v], boosted))
        aucs[CHAMPION].append(roc_auc_score(y[v], (hgb + boosted) / 2))
        print(k, {n: round(float(np.mean(a)), 4) for n, a in aucs.items()}, flush=True)
    first = np.array(next(iter(aucs.values())))
    result = {"method": "repeated stratified 5-fold CV (4 repeats, seed 23) on the fit rows; paired differences from the first variant",
              "hyperparameters": HYPERPARAMETERS, "xgboost_hyperparameters": {**XGB_HYPERPARAMETERS, "rounds": XGB_ROUNDS},
              "variants": [{"features": name, "auc_mean": round(float(np.mean(a)), 4), "auc_sd": round(float(np.std(a)), 4),
                            "paired_difference_mean": round(float(np.mean(np.array(a) - first)), 4),
                            "paired_difference_sd": round(float(np.std(np.array(a) - first)), 4)} for name, a in aucs.items()]}
    gain = np.array(aucs[CHAMPION]) - np.array(aucs[PREVIOUS])
    result["shipped_minus_2.0.0"] = {"paired_difference_mean": round(float(gain.mean()), 4),
                                     "paired_difference_sd": round(float(gain.std()), 4),
                                     "folds_better": int((gain > 0).sum()), "folds": len(gain)}
    with open(os.path.join(MODEL_DIR, "selection.json"), "w") as f:
        json.dump(result, f, indent=1)
        f.write("\n")
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
