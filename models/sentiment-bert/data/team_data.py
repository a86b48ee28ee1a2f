"""The team's labelled news corpus as training and development rows: written texts and labelled real texts.

- `written/*.tsv`: texts the team wrote, all for training (never for choosing settings: text written under the same
  guidelines would measure fit to the team's own style).
- `real/labels.tsv`: real texts of ../shared/data the team labelled, read back through their references and checked
  against their SHA-1. A seeded 25 % (by id) is the team's development split, one of the sources settings are chosen
  on; the rest trains.
Every row that equals a text of any held-out set after folding case, digits, URLs and punctuation, or shares a run
of 8 folded words with one, is dropped and counted, so no evaluation or development text is trained on in another guise.
"""
from __future__ import annotations

import collections
import csv
import glob
import hashlib
import os

from check_written import read_written
from corpus_refs import Resolver, fold, shingles

HERE = os.path.dirname(os.path.abspath(__file__))
LABEL_IDS = {"negative": 0, "neutral": 1, "positive": 2}
DEV_SHARE = 0.25


def _is_dev(text_id: str) -> bool:
    return int(hashlib.sha1(f"team-dev:{text_id}".encode()).hexdigest()[:8], 16) / 0xFFFFFFFF < DEV_SHARE


def load_team_data(data_root: str, held_out_texts: list[str]) -> dict:
    """{'written': [(text, label)], 'real_train': [...], 'real_dev': [...], 'report': {...}}."""
    held = {fold(t) for t in held_out_texts}
    held.discard("")
    held_grams = {g for t in held_out_texts for g in shingles(t)}
    near = lambda text: fold(text) in held or not shingles(text).isdisjoint(held_grams)  # noqa: E731
    report = collections.Counter({"written_dropped_as_held_out": 0, "real_dropped_as_held_out": 0})
    written, written_meta = [], collections.Counter()
    for path in sorted(glob.glob(os.path.join(HERE, "written", "*.tsv"))):
        for _, row in read_written(path):
            if near(row["text"]):
                report["written_dropped_as_held_out"] += 1
                continue
            written.append((row["text"], LABEL_IDS[row["label"]]))
            written_meta["templated" if row["templated"] == "1" else "composed"] += 1
    resolver = Resolver(data_root)
    real_train, real_dev = [], []
    with open(os.path.join(HERE, "real", "labels.tsv"), encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE):
            text = resolver.resolve(row["ref"], row["sha1"])
            if near(text):
                report["real_dropped_as_held_out"] += 1
                continue
            (real_dev if _is_dev(row["id"]) else real_train).append((text, LABEL_IDS[row["label"]]))
    # A development text must not be trained on as a near-duplicate either (tweets repeat across outlets).
    dev_keys = {fold(t) for t, _ in real_dev}
    before = len(real_train) + len(written)
    real_train = [(t, l) for t, l in real_train if fold(t) not in dev_keys]
    written = [(t, l) for t, l in written if fold(t) not in dev_keys]
    report["dropped_as_team_dev"] = before - len(real_train) - len(written)
    report.update({f"written_{k}": v for k, v in written_meta.items()})
    return {"written": written, "real_train": real_train, "real_dev": real_dev, "report": dict(report)}
