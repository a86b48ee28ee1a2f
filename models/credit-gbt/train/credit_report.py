"""Credit report: the decision thresholds, the reliability, grade and fairness tables, and MODEL_CARD.md."""
from __future__ import annotations

import json
import os

import numpy as np
from sklearn.metrics import roc_auc_score

from credit_data import FEATURES, MODEL_DIR, PRIOR_WEIGHT, SEED
from credit_export import CHALLENGER_VERSION


APPROVE_BELOW, DECLINE_FROM = 0.20, 0.45


def reliability_table(y, p):
    edges = np.linspace(0, 1, 11)
    bins = np.clip(np.digitize(p, edges) - 1, 0, 9)
    return [{"pd_from": round(edges[i], 1), "pd_to": round(edges[i + 1], 1), "n": int((bins == i).sum()),
             "mean_pd": round(float(p[bins == i].mean()), 4), "observed_default_rate": round(float(y[bins == i].mean()), 4)}
            for i in range(10) if (bins == i).sum() > 0]


def grade(pd_):
    for g, upper in (("A", 0.02), ("B", 0.05), ("C", 0.10), ("D", 0.20), ("E", 0.35), ("F", 0.50)):
        if pd_ < upper:
            return g
    return "G"


def group_table(name, groups, y, p):
    rows = []
    for label, mask in groups:
        if mask.sum() == 0:
            continue
        yy, pp = y[mask], p[mask]
        rows.append({"group": f"{name}={label}", "n": int(mask.sum()), "default_rate": round(float(yy.mean()), 4),
                     "auc": round(float(roc_auc_score(yy, pp)), 4) if 0 < yy.sum() < len(yy) else None,
                     "mean_pd": round(float(pp.mean()), 4), "approval_rate": round(float((pp < APPROVE_BELOW).mean()), 4),
                     "decline_rate": round(float((pp >= DECLINE_FROM).mean()), 4)})
    return rows


def write_card(m):
    with open(os.path.join(MODEL_DIR, "selection.json")) as f:
        gain = json.load(f)["shipped_minus_2.0.0"]
    selection_gain = (f"{gain['paired_difference_mean']:+.4f} AUC (sd {gain['paired_difference_sd']:.4f}; "
                      f"better on {gain['folds_better']} of {gain['folds']} folds)")
    members = m["test_auc_of_members"]
    g = m["test"]["gradient_boosted_trees"]
    s = m["test"]["woe_logistic_scorecard"]
    fair = "\n".join(f"| {r['group']} | {r['n']} | {r['default_rate']} | {r['auc']} | {r['mean_pd']} | "
                     f"{r['approval_rate']} | {r['decline_rate']} |" for r in m["fairness_test"])
    rel = "\n".join(f"| {r['pd_from']}–{r['pd_to']} | {r['n']} | {r['mean_pd']} | {r['observed_default_rate']} |"
                    for r in m["calibration"]["reliability"])
    card = f"""# credit-gbt: probability of default for card accounts

*Written by `npm run train:credit` (`models/credit-gbt/train/train_credit.py`); do not edit by hand.*

## Intended use
Risk assessment of an existing credit-card account from its limit, age, education and six months of repayment
status, statements and payments: probability of default next month, a points score, a grade, a decision
(APPROVE / REVIEW / DECLINE) and the factors that raised the risk most, for adverse-action notices.
Decision support for a credit officer, not an automated final decision; not for new applicants without history.

## Data
UCI "default of credit card clients" (Yeh & Lien 2009; CC BY 4.0): {m['data']['rows']} accounts from Taiwan, April–September 2005,
default rate {m['data']['default_rate']}. Stratified split, seed {SEED}: fit {m['data']['fit']} (calibrated on its 5-fold out-of-fold predictions),
test {m['data']['test']} (never tuned on). **SEX and MARRIAGE are not model inputs** (fair lending); they are used only below.

## Features ({len(FEATURES)})
credit limit, age, education (graduate school / university / high school / other / unknown), repayment status for each of
the last 6 months (−2 no consumption, −1 paid in full, 0 revolving, 1–9 months of delay), the 6 statement balances and
6 payments, utilisation (balance / limit) for each month, payment ratio (payment / the balance before it, clipped to 0–10)
for each of 5 months, balance growth over the six months, number of delayed months, the longest delay, balance volatility
(standard deviation of the 6 balances / limit) and the total payment ratio (5 payments / the 5 balances before them).
Education and the 6 repayment statuses enter the model as their code's smoothed default rate on the fit rows
({PRIOR_WEIGHT} pseudo-accounts at the overall rate; delays of 3+ months share one rate), so that a split can group codes by risk.
`features.json` lists the features in input order with their reason codes and these tables.

## Method
Compared on the test split: gradient-boosted trees and a logistic scorecard on weight-of-evidence bins (8 quantile bins
per feature). Champion by test AUC: **{m['champion']}**. The gradient-boosted model averages the log-odds of two ensembles
({m['model']['trees']} trees, {m['model']['nodes']} nodes in all):
- scikit-learn HistGradientBoosting: {m['model']['histogram_gradient_boosting']['trees']} trees (early stopping) of at most 10 leaves,
  learning rate 0.02, at least 150 accounts a leaf, L2 3.0;
- XGBoost {m['model']['xgboost']['version']}: {m['model']['xgboost']['trees']} trees of depth at most 7, learning rate 0.02, half the rows and 70 % of
  the columns per tree (70 % of those per split), minimum hessian 5 a leaf, L1 1, L2 30, minimum split gain 2.

Model development used cross-validation on the fit rows only. HistGradientBoosting's settings were chosen among 6 by 5-fold
AUC (random searches of 63 more found none better by more than 0.001); XGBoost's are the best of 45 random settings by
5-fold AUC. The code encodings and the two last features were kept, and XGBoost was added, because each raised repeated
cross-validated AUC (`select_credit.py`, `selection.json`: the average of both ensembles beats HistGradientBoosting alone
by {selection_gain}). Out-of-fold AUC of the shipped pipeline: {m['cross_validation']['auc_mean']}
(folds {m['cross_validation']['auc_folds']}). Test AUC of each ensemble alone (reported, not used to choose): HistGradientBoosting {members['histogram_gradient_boosting']},
XGBoost {members['xgboost']}.
Probabilities are calibrated by Platt scaling on out-of-fold margins. Exported to ONNX (ai.onnx.ml TreeEnsembleRegressor)
with a second output: each feature's contribution to the log-odds (path attribution; contributions plus a constant equal the
log-odds, max error {m['attribution_identity_max_error']:.1e}). The API's reasons are the up-to-4 largest positive contributions.

## Test metrics
| method | AUC | KS | Brier |
|---|---|---|---|
| **gradient-boosted trees, calibrated (shipped)** | **{g['auc']}** | **{g['ks']}** | **{g['brier']}** |
| gradient-boosted trees, uncalibrated | {m['test']['gradient_boosted_trees_uncalibrated']['auc']} | {m['test']['gradient_boosted_trees_uncalibrated']['ks']} | {m['test']['gradient_boosted_trees_uncalibrated']['brier']} |
| WoE logistic scorecard | {s['auc']} | {s['ks']} | {s['brier']} |

95 % bootstrap interval of the shipped model's test AUC: {m['test_auc_bootstrap_95']}. Its AUC is
{m['cross_validation']['auc_mean'] - g['auc']:.4f} below the out-of-fold AUC; differences of a few thousandths between models are within its noise,
which is why models are chosen by repeated cross-validation and the test split only reports.
`npm run evaluate:credit` re-measures every shipped version on this split through the gateway itself (GraphQL over
HTTP, the gateway's feature code, onnxruntime-node) and fails when a figure differs from its metrics.json.

Reliability (test):

| predicted PD | accounts | mean predicted | observed default rate |
|---|---|---|---|
{rel}

## Scores, grades and decisions (computed by the gateway)
- **Score**: 600 points at odds of 50:1 (good:bad), 20 points to double the odds: `score = 600 − 20/ln2 · ln(50) + 20/ln2 · ln((1−PD)/PD)`,
  rounded, clamped to 300–850.
- **Grade** by PD: A < 2 %, B < 5 %, C < 10 %, D < 20 %, E < 35 %, F < 50 %, G ≥ 50 %. Test counts: {m['grade_counts_test']}.
- **Decision** (thresholds configurable): APPROVE when PD < {APPROVE_BELOW}, DECLINE when PD ≥ {DECLINE_FROM}, REVIEW between.
  On test: approval rate {m['decision_thresholds']['test_approval_rate']}, decline rate {m['decision_thresholds']['test_decline_rate']}.

## Fairness (test split, default thresholds)
| group | accounts | default rate | AUC | mean PD | approval rate | decline rate |
|---|---|---|---|---|---|---|
{fair}

Differences in approval rates follow differences in observed default rates and repayment histories; the model never sees sex
or marital status, but age and education are inputs and may act as proxies. Review these figures before each deployment.

## Versions
- **{CHALLENGER_VERSION}** (`versions/{CHALLENGER_VERSION}/`, the challenger): the WoE logistic scorecard above, exported as one
  tree of bin thresholds per feature (leaves: coefficient × WoE), so reasons are each feature's points against the fit rows'
  average. Test AUC {s['auc']}. Run it in shadow (`setShadowModelVersion`) to compare it with the champion on live traffic,
  or activate it.
- **2.1.0** (top level, the champion): the average of HistGradientBoosting and XGBoost log-odds (see Method). Same 37
  features and encodings as 2.0.0; {m['model']['nodes']} tree nodes, {os.path.getsize(os.path.join(MODEL_DIR, 'model.onnx')) / 1e6:.1f} MB.
- **2.0.0** (`versions/2.0.0/`, the previous champion, kept for rollback): HistGradientBoosting alone; test AUC 0.7789, KS 0.4203, Brier 0.1366.
  Education and repayment statuses enter as smoothed default rates; balance volatility and total payment ratio
  added (37 features). Also fixes 1.0.0's reason labels: in 1.0.0, 12 of the 35 features (from utilisation two months ago
  to the longest delay) were named in features.json in an order other than the model's, so their reasons could name the
  wrong factor. features.json is now the single list both the training and the gateway follow, by name.
- 1.0.0: 35 features, codes as numbers; test AUC 0.7778, KS 0.4151, Brier 0.1368.

## Limits
- One market (Taiwan) in one half-year (2005): recalibrate and re-validate before use on other populations or periods.
- "Default" is one missed payment next month, not a charge-off; PDs are for that horizon.
- Path attributions explain this model's log-odds, not causes; reason texts are phrased for adverse-action notices and
  should be reviewed by compliance.
"""  # noqa: E501 (the card's lines are the written file's lines)
    with open(os.path.join(MODEL_DIR, "MODEL_CARD.md"), "w") as f:
        f.write(card)
