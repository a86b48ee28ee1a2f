#!/usr/bin/env python3
"""Checks that no team text equals or nearly equals a text of the project's evaluation and development sets.

Near means: the same after folding case, digits, URLs and punctuation, or sharing any run of 8 folded words.
Evaluation sets: SEntFiN's test split, the FiQA headlines, the tweet validation file; development sets: SEntFiN's
dev split and the tweet dev split (as train_sentiment.py makes them). Writes leakage.json beside this file and
prints the matches; exits 1 when a written text matches (training drops exact matches of either kind anyway).

Usage: /usr/bin/python3 models/sentiment-bert/data/check_leakage.py [--data ../shared/data]
"""
from __future__ import annotations

import argparse
import csv
import glob
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "train"))
from check_written import read_written  # noqa: E402
from corpus_refs import Resolver, fold, shingles  # noqa: E402
from train_sentiment import load_data  # noqa: E402

N = 8  # corpus_refs.shingles' default


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", default=os.path.join(REPO, "..", "shared", "data"))
    args = p.parse_args()
    data = load_data(args.data, 13)[0]
    held = {name: [t for t, _ in data[name]] for name in ("news_test", "fiqa_headlines", "tweets_valid", "news_dev", "tweets_dev")}
    exact = {fold(t): name for name, texts in held.items() for t in texts}
    grams = {g: name for name, texts in held.items() for t in texts for g in shingles(t)}
    team = [("written", row["text"]) for path in sorted(glob.glob(os.path.join(HERE, "written", "*.tsv"))) for _, row in read_written(path)]
    resolver = Resolver(args.data)
    with open(os.path.join(HERE, "real", "labels.tsv"), encoding="utf-8", newline="") as f:
        team += [("real", resolver.resolve(r["ref"], r["sha1"])) for r in csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE)]
    matches = []
    for kind, text in team:
        hit = exact.get(fold(text)) or next((grams[g] for g in shingles(text) if g in grams), None)
        if hit:
            matches.append({"kind": kind, "set": hit, "text": text if kind == "written" else "(a real text; see real/labels.tsv)"})
    result = {"team_texts": len(team), "held_out_texts": {k: len(v) for k, v in held.items()},
              "rule": f"same folded text, or a shared run of {N} folded words", "matches": len(matches),
              "by_kind": {k: sum(m["kind"] == k for m in matches) for k in ("written", "real")}, "examples": matches[:50]}
    with open(os.path.join(HERE, "leakage.json"), "w", encoding="utf-8") as f:
        json.dump(result, f, indent=1)
        f.write("\n")
    print(json.dumps({k: v for k, v in result.items() if k != "examples"}, indent=1))
    for m in matches[:20]:
        print(m)
    return 1 if result["by_kind"]["written"] else 0


if __name__ == "__main__":
    sys.exit(main())
