#!/usr/bin/env python3
"""The credit model served as a Python team would serve it, for npm run bench:credit.

FastAPI + pydantic (every account validated) + the same gradient-boosted champion: scikit-learn's
HistGradientBoosting and XGBoost, log-odds averaged, Platt-calibrated, with path-attribution reasons (each
feature's change of a tree's expected value at its splits: XGBoost's own approx_contribs for its half, the
training code's tree walk for the other). Score, grade, decision and up to 4 adverse-action reasons per account.

The boosters are not committed (only their ONNX export is), so they are retrained at start, deterministically, by
the training code itself (models/credit-gbt/train/train_credit.py: same data, split, seed, hyperparameters and
fixed thread count) on the same fit rows, with the committed code encodings (features.json) and the committed
calibration (model.onnx's platt_a, platt_b); --cache keeps them between runs. The peer checks at start that its
probabilities match test_vectors.json and exits if they do not; bench:credit checks its decisions against the
gateway's.

POST /assess {"accounts": [{accountId, creditLimit, age, education, repaymentStatus[6], billAmounts[6],
paymentAmounts[6]}, ...]} -> [{accountId, probabilityOfDefault, score, grade, decision, reasons: [{code, contribution}]}]
Usage: /usr/bin/python3 bench/peers/credit_fastapi.py --port 8001 [--data ../shared/data] [--threads 2]
"""
from __future__ import annotations

import argparse
import json
import math
import os
import pickle
import sys
from typing import List, Literal

import numpy as np
import onnx
import uvicorn
import xgboost as xgb
from fastapi import FastAPI
from onnx import numpy_helper
from pydantic import BaseModel, Field, conlist, confloat, conint
from sklearn.model_selection import train_test_split

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
MODEL_DIR = os.path.join(REPO, "models", "credit-gbt")
sys.path.insert(0, os.path.join(MODEL_DIR, "train"))
import train_credit as tc  # noqa: E402

EDUCATION = {"GRADUATE_SCHOOL": 1, "UNIVERSITY": 2, "HIGH_SCHOOL": 3, "OTHER": 4, "UNKNOWN": 0}
MAX_AMOUNT = 1e10  # the gateway's bounds (src/domains/credit/credit.inputs.ts)


class Account(BaseModel):
    accountId: str = Field(min_length=1, max_length=128)
    creditLimit: confloat(ge=1, le=MAX_AMOUNT)
    age: conint(ge=18, le=100)
    education: Literal["GRADUATE_SCHOOL", "UNIVERSITY", "HIGH_SCHOOL", "OTHER", "UNKNOWN"]
    repaymentStatus: conlist(conint(ge=-2, le=9), min_items=6, max_items=6)
    billAmounts: conlist(confloat(ge=-MAX_AMOUNT, le=MAX_AMOUNT), min_items=6, max_items=6)
    paymentAmounts: conlist(confloat(ge=0, le=MAX_AMOUNT), min_items=6, max_items=6)


class Accounts(BaseModel):
    accounts: List[Account] = Field(min_items=1, max_items=5000)


def train_or_load(data: str, cache: str):
    if cache and os.path.exists(cache):
        with open(cache, "rb") as f:
            return pickle.load(f)
    _, raw, y = tc.load(os.path.join(data, "credit", "credit_card_default.csv"))
    fit, _ = train_test_split(np.arange(len(y)), test_size=0.2, stratify=y, random_state=tc.SEED)
    encodings = {f["name"]: f["encoding"] for f in json.load(open(os.path.join(MODEL_DIR, "features.json")))["features"] if "encoding" in f}
    x = tc.feature_matrix(tc.subset(raw, fit), encodings)
    hgb = tc.HistGradientBoostingClassifier(**tc.HYPERPARAMETERS, random_state=tc.SEED).fit(x, y[fit])
    booster = tc.fit_xgb(x, y[fit], tc.SEED)
    model = {"encodings": encodings, "hgb": tc.extract_trees(hgb), "booster": booster.save_raw("json")}
    if cache:
        with open(cache, "wb") as f:
            pickle.dump(model, f)
    return model


class Champion:
    def __init__(self, model: dict, threads: int):
        self.encodings = model["encodings"]
        self.hgb_base, self.hgb_trees = model["hgb"]
        self.booster = xgb.Booster(params={"nthread": threads})
        self.booster.load_model(bytearray(model["booster"]))
        inits = {t.name: numpy_helper.to_array(t) for t in onnx.load(os.path.join(MODEL_DIR, "model.onnx")).graph.initializer}
        self.a, self.b = float(inits["platt_a"]), float(inits["platt_b"])
        features = json.load(open(os.path.join(MODEL_DIR, "features.json")))["features"]
        self.codes = [f["reasonCode"] for f in features]

    def features(self, accounts: list[Account]) -> np.ndarray:
        raw = tc.raw_features([a.creditLimit for a in accounts], [a.age for a in accounts], [EDUCATION[a.education] for a in accounts],
                              [a.repaymentStatus for a in accounts], [a.billAmounts for a in accounts],
                              [a.paymentAmounts for a in accounts])
        return tc.feature_matrix(raw, self.encodings)

    def predict(self, x: np.ndarray):
        """Calibrated PD and each feature's contribution to the calibrated log-odds."""
        hgb_margin, _, hgb_contrib = tc.reference_outputs(self.hgb_base, self.hgb_trees, 1.0, 0.0, x)
        xgb_contrib = self.booster.predict(xgb.DMatrix(x), pred_contribs=True, approx_contribs=True)
        margin = 0.5 * (hgb_margin + xgb_contrib.sum(1))
        contrib = self.a * 0.5 * (hgb_contrib + xgb_contrib[:, :-1])
        return 1 / (1 + np.exp(-(self.a * margin + self.b))), contrib


def score(pd_: float) -> int:
    factor = 20 / math.log(2)
    p = min(max(pd_, 1e-9), 1 - 1e-9)
    return min(850, max(300, round(600 - factor * math.log(50) + factor * math.log((1 - p) / p))))


def create_app(champion: Champion) -> FastAPI:
    app = FastAPI()

    @app.post("/assess")
    def assess(body: Accounts):  # numpy and XGBoost release the GIL; FastAPI runs this on its thread pool
        pd_, contrib = champion.predict(champion.features(body.accounts))
        out = []
        for a, p, c in zip(body.accounts, pd_.tolist(), contrib):
            top = np.argsort(-c)[:4]
            out.append({"accountId": a.accountId, "probabilityOfDefault": p, "score": score(p), "grade": tc.grade(p),
                        "decision": "APPROVE" if p < tc.APPROVE_BELOW else "DECLINE" if p >= tc.DECLINE_FROM else "REVIEW",
                        "reasons": [{"code": champion.codes[k], "contribution": float(c[k])} for k in top if c[k] > 1e-6]})
        return out

    return app


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=8001)
    parser.add_argument("--data", default=os.path.join(REPO, "..", "shared", "data"))
    parser.add_argument("--cache", default="", help="pickle of the retrained boosters, reused when present")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()
    champion = Champion(train_or_load(args.data, args.cache), args.threads)
    vectors = json.load(open(os.path.join(MODEL_DIR, "test_vectors.json")))
    pd_, _ = champion.predict(champion.features([Account(**v["account"]) for v in vectors]))
    gap = float(np.max(np.abs(pd_ - np.array([v["probabilityOfDefault"] for v in vectors]))))
    if gap > 1e-4:
        sys.exit(f"retrained model differs from the shipped one: PD gap {gap} on test_vectors.json")
    print(f"peer ready on http://127.0.0.1:{args.port}/assess (PD gap to test vectors {gap:.2e})", flush=True)
    uvicorn.run(app=create_app(champion), host="127.0.0.1", port=args.port, log_level="warning", access_log=False)
