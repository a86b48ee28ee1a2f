"""Credit data: the features (names, reason codes, descriptions), their code encodings and the CSV loader."""
from __future__ import annotations

import os

import numpy as np
import pandas as pd

HERE = os.path.dirname(os.path.abspath(__file__))
MODEL_DIR = os.path.dirname(HERE)
REPO = os.path.abspath(os.path.join(MODEL_DIR, "..", ".."))


SEED = 42

# name, reason code, adverse-action description (shown when the feature raised the risk), in the model's input order.
# Descriptions say "level" where both low and high values can raise the risk (balances: an idle card is riskier too).
FEATURES = [
    ("credit_limit", "LOW_CREDIT_LIMIT", "Credit limit is low relative to accounts that repay"),
    ("age", "AGE_PROFILE", "Age band has higher observed default rates"),
    ("education", "EDUCATION_PROFILE", "Education level has higher observed default rates"),
    *[(f"repayment_status_{k}", f"DELINQUENCY_M{k}", f"Repayment status {k} month(s) ago shows delay or revolving balance")
      for k in range(1, 7)],
    *[(f"bill_amount_{k}", f"BILL_AMOUNT_M{k}", f"Level of the statement balance {k} month(s) ago") for k in range(1, 7)],
    *[(f"payment_amount_{k}", f"LOW_PAYMENT_M{k}", f"Amount paid {k} month(s) ago is low") for k in range(1, 7)],
    ("utilization", "HIGH_UTILIZATION", "Latest balance is high relative to the credit limit"),
    ("payment_ratio", "LOW_PAYMENT_RATIO", "Latest payment covers little of the previous balance"),
    *[(f"utilization_{k}", f"HIGH_UTILIZATION_M{k}", f"Balance {k} month(s) ago was high relative to the credit limit")
      for k in range(2, 7)],
    *[(f"payment_ratio_{k}", f"LOW_PAYMENT_RATIO_M{k}", f"Payment {k} month(s) ago covered little of the balance before it")
      for k in range(2, 6)],
    ("balance_growth", "BALANCE_TREND", "Change in the balance over the last six months relative to the credit limit"),
    ("months_delayed", "FREQUENT_DELAYS", "Number of months with a payment delay"),
    ("max_delay", "SEVERE_DELAY", "Longest payment delay in the last six months"),
    ("bill_volatility", "VOLATILE_BALANCE", "Statement balances varied widely relative to the credit limit"),
    ("total_payment_ratio", "LOW_TOTAL_PAYMENTS", "Payments over the last five months covered little of the balances"),
]
FEATURE_NAMES = [n for n, _, _ in FEATURES]
EDUCATION_CODE = {1: 1, 2: 2, 3: 3, 4: 4}  # dataset codes 0, 5, 6 are undocumented: unknown (0)
PAY_COLS = ["PAY_0", "PAY_2", "PAY_3", "PAY_4", "PAY_5", "PAY_6"]

# Code features the model sees as their smoothed default rate on the training rows, so that a threshold split
# can group codes by risk (e.g. "no consumption" with "revolving"); delays of 3+ months share one rate because
# longer delays are rare. The tables travel in features.json and the gateway applies the same lookup.
ENCODED = {"education": {"domain": [0, 1, 2, 3, 4], "clamp_above": None},
           **{f"repayment_status_{k}": {"domain": list(range(-2, 10)), "clamp_above": 3} for k in range(1, 7)}}
PRIOR_WEIGHT = 20  # pseudo-accounts at the overall default rate added to every code


def raw_features(limit, age, education, status, bills, payments) -> dict[str, np.ndarray]:
    """Every named feature for N accounts (status, bills, payments: [N, 6], most recent first), before the code
    encodings. src/domains/credit/credit.features.ts computes the same (checked by test_vectors.json)."""
    limit = np.asarray(limit, np.float64)
    status, bills, payments = (np.asarray(a, np.float64) for a in (status, bills, payments))
    utilization = bills / limit[:, None]
    # payment k pays (part of) the statement before it, k+1
    payment_ratio = np.clip(payments[:, :5] / np.maximum(bills[:, 1:], 1.0), 0.0, 10.0)
    f = {"credit_limit": limit, "age": np.asarray(age, np.float64), "education": np.asarray(education, np.float64)}
    for k in range(6):
        f[f"repayment_status_{k + 1}"] = status[:, k]
        f[f"bill_amount_{k + 1}"] = bills[:, k]
        f[f"payment_amount_{k + 1}"] = payments[:, k]
    f["utilization"], f["payment_ratio"] = utilization[:, 0], payment_ratio[:, 0]
    for k in range(2, 7):
        f[f"utilization_{k}"] = utilization[:, k - 1]
    for k in range(2, 6):
        f[f"payment_ratio_{k}"] = payment_ratio[:, k - 1]
    f["balance_growth"] = (bills[:, 0] - bills[:, 5]) / limit
    f["months_delayed"] = (status >= 1).sum(1).astype(np.float64)
    f["max_delay"] = status.max(1)
    f["bill_volatility"] = bills.std(1) / limit
    f["total_payment_ratio"] = payments[:, :5].sum(1) / np.maximum(bills[:, 1:].sum(1), 1.0)
    return f


def fit_encodings(raw: dict[str, np.ndarray], y: np.ndarray) -> dict[str, dict]:
    """Smoothed default rate of every code of every encoded feature, from these rows only."""
    prior = float(y.mean())
    tables = {}
    for name, spec in ENCODED.items():
        clamp = spec["clamp_above"]
        codes = raw[name] if clamp is None else np.minimum(raw[name], clamp)
        keys = sorted({c if clamp is None else min(c, clamp) for c in spec["domain"]})
        tables[name] = {"clampAbove": clamp, "table": {str(int(c)): round((float(y[codes == c].sum()) + prior * PRIOR_WEIGHT)
                                                                          / (int((codes == c).sum()) + PRIOR_WEIGHT), 6) for c in keys}}
    return tables


def feature_matrix(raw: dict[str, np.ndarray], encodings: dict[str, dict] | None) -> np.ndarray:
    """The model's input rows (FEATURES order), with the code encodings applied when given."""
    cols = []
    for name in FEATURE_NAMES:
        v = raw[name]
        if encodings and name in encodings:
            e = encodings[name]
            keys = v if e["clampAbove"] is None else np.minimum(v, e["clampAbove"])
            v = np.array([e["table"][str(int(c))] for c in keys])
        cols.append(v)
    return np.stack(cols, axis=1).astype(np.float32)


def load(path: str):
    df = pd.read_csv(path)
    raw = raw_features(df.LIMIT_BAL.to_numpy(), df.AGE.to_numpy(), df.EDUCATION.map(lambda e: EDUCATION_CODE.get(e, 0)).to_numpy(),
                       df[PAY_COLS].to_numpy(), df[[f"BILL_AMT{k}" for k in range(1, 7)]].to_numpy(),
                       df[[f"PAY_AMT{k}" for k in range(1, 7)]].to_numpy())
    return df, raw, df["default"].to_numpy()


def subset(raw: dict[str, np.ndarray], rows: np.ndarray) -> dict[str, np.ndarray]:
    return {k: v[rows] for k, v in raw.items()}
