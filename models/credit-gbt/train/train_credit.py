#!/usr/bin/env python3
"""Train the credit-default model, compare it with a WoE logistic scorecard, export it to ONNX.

Data: UCI "default of credit card clients" (../shared/data/credit/credit_card_default.csv, or --data DIR).
SEX and MARRIAGE are never model inputs; they are used only for the fairness table.

Splits (stratified, seed 42): test 20 % (never tuned on, reported) and fit 80 % (Platt scaling on its
5-fold out-of-fold margins). Feature, method and hyperparameter choices were made by cross-validation on the fit rows
(select_credit.py reproduces the feature and method comparison). The champion averages the log-odds of two
gradient-boosted tree ensembles (scikit-learn HistGradientBoosting and XGBoost); it and the WoE scorecard are fitted
on `fit` and compared by test AUC. The champion's trees, both ensembles at half weight, are
exported as one ONNX graph (ai.onnx.ml TreeEnsembleRegressor) with two outputs:
  probability   [N, 1]  calibrated probability of default next month
  contributions [N, F]  each feature's additive contribution to the calibrated log-odds (path
                        attribution: the change of a tree's value at every split on that feature)
Writes model.onnx, features.json, baseline.json (drift monitoring), metrics.json, test_vectors.json, test_split.json
(the test accounts' IDs) and MODEL_CARD.md.

The code is split by role: credit_data.py (features, encodings, loading), credit_model.py (fitting, blending,
metrics), credit_export.py (tree extraction, ONNX export, reference outputs, features.json) and credit_report.py
(tables, model card); this file runs them in order.

Usage: /usr/bin/python3 models/credit-gbt/train/train_credit.py [--data ../shared/data]
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import brier_score_loss, roc_auc_score
from sklearn.model_selection import StratifiedKFold, train_test_split
import xgboost as xgb

from credit_data import (ENCODED, FEATURE_NAMES, FEATURES, MODEL_DIR, PRIOR_WEIGHT, REPO, SEED, feature_matrix, fit_encodings,
                         load, raw_features, subset)
from credit_export import (CHALLENGER_VERSION, export_onnx, extract_trees, extract_xgb_trees, reference_outputs,
                           write_features)
from credit_model import (HYPERPARAMETERS, XGB_HYPERPARAMETERS, XGB_ROUNDS, blend, bootstrap_auc, champion_margin,
                          fit_champion, fit_scorecard, fit_xgb, ks, xgb_margin)
from credit_report import APPROVE_BELOW, DECLINE_FROM, grade, group_table, reliability_table, write_card

sys.path.insert(0, os.path.join(REPO, "models", "common"))
from baseline import write_baseline  # noqa: E402

# Other scripts import these from here: bench/peers/credit_fastapi.py (as `tc.<name>`; it fits the
# HistGradientBoostingClassifier it takes from here) and select_credit.py.
__all__ = ["APPROVE_BELOW", "DECLINE_FROM", "FEATURE_NAMES", "HYPERPARAMETERS", "HistGradientBoostingClassifier", "MODEL_DIR", "REPO",
           "SEED", "XGB_HYPERPARAMETERS", "XGB_ROUNDS", "extract_trees", "feature_matrix", "fit_encodings", "fit_xgb", "grade", "load",
           "raw_features", "reference_outputs", "subset", "xgb_margin", "main"]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default=os.path.join(REPO, "..", "shared", "data"))
    args = ap.parse_args()
    started = time.time()
    df, raw, y = load(os.path.join(args.data, "credit", "credit_card_default.csv"))
    idx = np.arange(len(y))
    rest, test = train_test_split(idx, test_size=0.2, stratify=y, random_state=SEED)
    fit = rest
    # Platt scaling on out-of-fold margins: every non-test account both trains the model and calibrates it.
    # Each fold fits its own code encodings, as the final model does on all of `fit`.
    oof = np.zeros(len(rest))
    cv_auc = []
    for k, (tr, va) in enumerate(StratifiedKFold(5, shuffle=True, random_state=SEED).split(rest, y[rest])):
        enc, fold_hgb, fold_xgb = fit_champion(raw, y, rest[tr], SEED + k)
        oof[va] = champion_margin(fold_hgb, fold_xgb, feature_matrix(subset(raw, rest[va]), enc))
        cv_auc.append(roc_auc_score(y[rest[va]], oof[va]))
    encodings, hgb, booster = fit_champion(raw, y, fit, SEED)
    x_fit, x_test = feature_matrix(subset(raw, fit), encodings), feature_matrix(subset(raw, test), encodings)
    platt = LogisticRegression(C=1e6, max_iter=1000).fit(oof.reshape(-1, 1), y[rest])
    a, b = float(platt.coef_[0, 0]), float(platt.intercept_[0])
    base, trees = blend([extract_trees(hgb), extract_xgb_trees(booster)], 0.5)
    margin, p_test, contrib = reference_outputs(base, trees, a, b, x_test)
    members = {"histogram_gradient_boosting": hgb.decision_function(x_test), "xgboost": xgb_margin(booster, x_test)}
    model_margin = (members["histogram_gradient_boosting"] + members["xgboost"]) / 2  # champion_margin, from the members' margins
    # XGBoost adds its leaves in float32: agreement to 1e-5 in the log-odds
    export_error = float(np.max(np.abs(margin - model_margin)))
    assert export_error < 1e-5, f"exported trees disagree with the model: {export_error}"
    p_uncal = 1 / (1 + np.exp(-model_margin))
    # The scorecard bins the codes itself: it gets the features without the rate encodings.
    x_plain = feature_matrix(raw, None)
    sc_base, sc_trees, sc_predict = fit_scorecard(x_plain[fit], y[fit])
    sc_margin, p_scorecard, sc_contrib = reference_outputs(sc_base, sc_trees, 1.0, 0.0, x_plain[test])
    scorecard_export_error = float(np.max(np.abs(p_scorecard - sc_predict(x_plain[test]))))
    assert scorecard_export_error < 1e-6, f"the scorecard's trees disagree with it: {scorecard_export_error}"

    bias = export_onnx(base, trees, a, b, len(FEATURES), os.path.join(MODEL_DIR, "model.onnx"))
    logit = a * margin + b
    identity_error = float(np.max(np.abs(contrib.sum(1) + bias - logit)))

    methods = {
        "gradient_boosted_trees": {"auc": roc_auc_score(y[test], p_test), "ks": ks(y[test], p_test),
                                   "brier": brier_score_loss(y[test], p_test)},
        "gradient_boosted_trees_uncalibrated": {"auc": roc_auc_score(y[test], p_uncal), "ks": ks(y[test], p_uncal),
                                                "brier": brier_score_loss(y[test], p_uncal)},
        "woe_logistic_scorecard": {"auc": roc_auc_score(y[test], p_scorecard), "ks": ks(y[test], p_scorecard),
                                   "brier": brier_score_loss(y[test], p_scorecard)},
    }
    methods = {k: {m: round(float(v), 4) for m, v in d.items()} for k, d in methods.items()}
    champion = max(("gradient_boosted_trees", "woe_logistic_scorecard"), key=lambda k: methods[k]["auc"])
    assert champion == "gradient_boosted_trees", "the scorecard won: make it the top-level version"
    reliability = reliability_table(y[test], p_test)
    t = df.iloc[test]
    fairness = (group_table("SEX", [("male", t.SEX.to_numpy() == 1), ("female", t.SEX.to_numpy() == 2)], y[test], p_test)
                + group_table("MARRIAGE", [("married", t.MARRIAGE.to_numpy() == 1), ("single", t.MARRIAGE.to_numpy() == 2),
                                           ("other", ~np.isin(t.MARRIAGE.to_numpy(), [1, 2]))], y[test], p_test)
                + group_table("AGE", [(lbl, (t.AGE.to_numpy() >= lo) & (t.AGE.to_numpy() < hi))
                                      for lbl, lo, hi in (("<30", 0, 30), ("30-39", 30, 40), ("40-49", 40, 50), ("50+", 50, 200))],
                              y[test], p_test))
    grades = {g: int(sum(grade(p) == g for p in p_test)) for g in "ABCDEFG"}

    write_baseline(os.path.join(MODEL_DIR, "baseline.json"), FEATURE_NAMES, x_fit, "probability_of_default", p_test,
                   "features: the fit rows; output: calibrated PD on the test split")
    write_features(MODEL_DIR, encodings)

    # The scorecard ships as the challenger version, for shadow comparison or activation.
    challenger_dir = os.path.join(MODEL_DIR, "versions", CHALLENGER_VERSION)
    os.makedirs(challenger_dir, exist_ok=True)
    sc_bias = export_onnx(sc_base, sc_trees, 1.0, 0.0, len(FEATURES), os.path.join(challenger_dir, "model.onnx"))
    scorecard_identity_error = float(np.max(np.abs(sc_contrib.sum(1) + sc_bias - sc_margin)))
    write_features(challenger_dir, {})
    write_baseline(os.path.join(challenger_dir, "baseline.json"), FEATURE_NAMES, x_plain[fit], "probability_of_default", p_scorecard,
                   "features: the fit rows; output: PD on the test split")
    with open(os.path.join(MODEL_DIR, "manifest.json")) as f:
        manifest = json.load(f)
    with open(os.path.join(challenger_dir, "manifest.json"), "w") as f:
        json.dump({**manifest, "version": CHALLENGER_VERSION}, f, indent=2)
        f.write("\n")
    with open(os.path.join(challenger_dir, "metrics.json"), "w") as f:
        json.dump({"task": "credit-default", "method": "woe_logistic_scorecard", "role": "challenger (see ../../MODEL_CARD.md)",
                   "test": methods["woe_logistic_scorecard"], "reliability": reliability_table(y[test], p_scorecard),
                   "export_max_probability_error": scorecard_export_error,
                   "attribution_identity_max_error": scorecard_identity_error}, f, indent=1)
        f.write("\n")

    # Accounts from the test split in the API's shape, with what the model must answer for them.
    edu_name = {1: "GRADUATE_SCHOOL", 2: "UNIVERSITY", 3: "HIGH_SCHOOL", 4: "OTHER"}
    vectors = []
    for k in [0, 1, 2, 3, 5, 8, 13, 21]:
        r = df.iloc[test[k]]
        vectors.append({
            "account": {"accountId": f"test-{int(r.ID)}", "creditLimit": float(r.LIMIT_BAL), "age": int(r.AGE),
                        "education": edu_name.get(int(r.EDUCATION), "UNKNOWN"),
                        "repaymentStatus": [int(r[c]) for c in ["PAY_0", "PAY_2", "PAY_3", "PAY_4", "PAY_5", "PAY_6"]],
                        "billAmounts": [float(r[f"BILL_AMT{j}"]) for j in range(1, 7)],
                        "paymentAmounts": [float(r[f"PAY_AMT{j}"]) for j in range(1, 7)]},
            "features": [float(v) for v in x_test[k]],
            "probabilityOfDefault": float(p_test[k]),
            "challengerProbabilityOfDefault": float(p_scorecard[k]),
            "contributions": [float(v) for v in contrib[k]],
        })
    # The test split's account IDs (no data values): evaluate-credit re-measures the shipped versions on it through the gateway.
    with open(os.path.join(MODEL_DIR, "test_split.json"), "w") as f:
        json.dump({"data": "credit/credit_card_default.csv", "split": f"stratified 20 %, seed {SEED}",
                   "ids": [int(i) for i in df.ID.to_numpy()[test]]}, f)
        f.write("\n")
    with open(os.path.join(MODEL_DIR, "test_vectors.json"), "w") as f:
        json.dump(vectors, f, indent=1)
        f.write("\n")

    metrics = {
        "task": "credit-default",
        "data": {"rows": int(len(y)), "default_rate": round(float(y.mean()), 4), "fit": int(len(fit)), "test": int(len(test)),
                 "excluded_inputs": ["SEX", "MARRIAGE", "ID"]},
        "champion": champion,
        "test": methods,
        "test_auc_bootstrap_95": bootstrap_auc(y[test], p_test),
        "test_auc_of_members": {k: round(float(roc_auc_score(y[test], v)), 4) for k, v in members.items()},
        "cross_validation": {"method": "5-fold out-of-fold AUC of the shipped pipeline on the fit rows (encodings refitted per fold)",
                             "auc_mean": round(float(np.mean(cv_auc)), 4), "auc_folds": [round(float(v), 4) for v in cv_auc]},
        "calibration": {"method": "Platt scaling on 5-fold out-of-fold margins of the non-test rows", "a": round(a, 6), "b": round(b, 6),
                        "reliability": reliability},
        "decision_thresholds": {"approve_below_pd": APPROVE_BELOW, "decline_from_pd": DECLINE_FROM,
                                "test_approval_rate": round(float((p_test < APPROVE_BELOW).mean()), 4),
                                "test_decline_rate": round(float((p_test >= DECLINE_FROM).mean()), 4)},
        "grade_counts_test": grades,
        "fairness_test": fairness,
        "attribution_identity_max_error": identity_error,
        "model": {"trees": len(trees), "nodes": int(sum(len(t["ev"]) for t in trees)), "margin": "average of the two members' log-odds",
                  "histogram_gradient_boosting": {"trees": len(hgb._predictors), **HYPERPARAMETERS},
                  "xgboost": {"trees": XGB_ROUNDS, **XGB_HYPERPARAMETERS, "version": xgb.__version__},
                  "seed": SEED, "export_max_margin_error": export_error,
                  "encoded_features": sorted(ENCODED), "encoding_prior_weight": PRIOR_WEIGHT},
        "seconds": round(time.time() - started, 1),
    }
    with open(os.path.join(MODEL_DIR, "metrics.json"), "w") as f:
        json.dump(metrics, f, indent=1)
        f.write("\n")
    write_card(metrics)
    print(json.dumps({"test": methods, "champion": champion, "identity_error": identity_error, "seconds": metrics["seconds"]}, indent=1))


if __name__ == "__main__":
    main()
