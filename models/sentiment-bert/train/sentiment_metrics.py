"""Sentiment metrics: accuracy, macro-F1 and calibration error, and the tf-idf logistic-regression baseline."""
from __future__ import annotations

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score

import wordpiece as wp


def ece(y_true, probs, bins=10):
    """Expected calibration error of the top label, 10 equal-width confidence bins."""
    conf, pred = probs.max(1), probs.argmax(1)
    edges = np.linspace(0, 1, bins + 1)
    total = 0.0
    for lo, hi in zip(edges[:-1], edges[1:]):
        inside = (conf > lo) & (conf <= hi)
        if inside.any():
            total += inside.mean() * abs((pred[inside] == y_true[inside]).mean() - conf[inside].mean())
    return round(float(total), 4)


def scores(y_true, probs):
    y_true, pred = np.asarray(y_true), probs.argmax(1)
    return {"accuracy": round(float(accuracy_score(y_true, pred)), 4),
            "macro_f1": round(float(f1_score(y_true, pred, average="macro")), 4),
            "ece": ece(y_true, probs)}


def tfidf_baseline(train, evaluations):
    vec = TfidfVectorizer(preprocessor=wp.normalize, ngram_range=(1, 2), min_df=2, sublinear_tf=True)
    x = vec.fit_transform([t for t, _ in train])
    clf = LogisticRegression(max_iter=2000, C=4.0, class_weight="balanced")
    clf.fit(x, [l for _, l in train])
    return {name: {k: v for k, v in scores([l for _, l in rows], clf.predict_proba(vec.transform([t for t, _ in rows]))).items()
                   if k != "ece"} for name, rows in evaluations.items()}
