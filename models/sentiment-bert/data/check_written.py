#!/usr/bin/env python3
"""Check the team-written texts: columns, labels, and duplicates after folding case, digits and punctuation.

Prints each problem with its file and line and a summary (texts and labels per batch); exits 1 on a problem.
Usage: /usr/bin/python3 models/sentiment-bert/data/check_written.py [FILE ...]   (default: every written/*.tsv)
"""
from __future__ import annotations

import collections
import glob
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from corpus_refs import fold  # noqa: E402

COLUMNS = ["text", "label", "batch", "style", "topic", "phenomenon", "templated"]
LABELS = {"negative", "neutral", "positive"}
STYLES = {"headline", "sentence", "tweet"}


def read_written(path: str):
    """(line number, row dict) of a written TSV; raises ValueError on a malformed line."""
    with open(path, encoding="utf-8") as f:
        header = f.readline().rstrip("\n").split("\t")
        if header != COLUMNS:
            raise ValueError(f"{path}: header must be {COLUMNS}, got {header}")
        for n, line in enumerate(f, start=2):
            line = line.rstrip("\n")
            if not line.strip():
                continue
            cells = line.split("\t")
            if len(cells) != len(COLUMNS):
                raise ValueError(f"{path}:{n}: {len(cells)} columns, expected {len(COLUMNS)}")
            yield n, dict(zip(COLUMNS, cells))


def main(paths: list[str]) -> int:
    paths = paths or sorted(glob.glob(os.path.join(HERE, "written", "*.tsv")))
    problems, seen = [], {}
    per_batch = collections.defaultdict(collections.Counter)
    for path in paths:
        try:
            for n, row in read_written(path):
                where = f"{os.path.basename(path)}:{n}"
                if row["label"] not in LABELS:
                    problems.append(f"{where}: label {row['label']!r} is not one of {sorted(LABELS)}")
                if row["style"] not in STYLES:
                    problems.append(f"{where}: style {row['style']!r} is not one of {sorted(STYLES)}")
                if row["templated"] not in ("0", "1"):
                    problems.append(f"{where}: templated must be 0 or 1")
                words = len(row["text"].split())
                if words < 3 or words > 60:
                    problems.append(f"{where}: {words} words (3..60 expected)")
                k = fold(row["text"])
                if k in seen:
                    problems.append(f"{where}: duplicate of {seen[k]} after folding: {row['text']}")
                else:
                    seen[k] = where
                per_batch[row["batch"]][row["label"]] += 1
        except ValueError as e:
            problems.append(str(e))
    for p in problems:
        print(p)
    total = collections.Counter()
    for batch, counts in sorted(per_batch.items()):
        total.update(counts)
        print(f"{batch}: {sum(counts.values())} texts {dict(sorted(counts.items()))}")
    print(f"all: {sum(total.values())} texts {dict(sorted(total.items()))}; {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
