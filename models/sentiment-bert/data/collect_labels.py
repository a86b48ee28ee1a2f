#!/usr/bin/env python3
"""Collect the labelling passes over real texts into the committed files, and measure their agreement.

Reads the work folder that sample_real.py wrote and the labellers filled (refs.tsv, labels-K.tsv of the first pass,
labels-second.tsv of the blind second pass, adjudicated.tsv of the disagreements) and writes:
  real/labels.tsv           id, ref, sha1, label, batch: the final label of every real text (first-pass label,
                            replaced by the adjudicated one where the two passes disagreed);
  agreement/second-pass.tsv id, label: the blind second pass as it was given;
  agreement/adjudicated.tsv id, first, second, final, note: every disagreement and how it was settled;
  agreement/written-second-pass.tsv text, first, second: a blind second pass over a sample of the written texts;
  agreement/report.json     Cohen's kappa, raw agreement, the confusion of the two passes, class balance.
No text is written: references only (see corpus_refs.py).

Usage: /usr/bin/python3 models/sentiment-bert/data/collect_labels.py [--work DIR]
"""
from __future__ import annotations

import argparse
import collections
import csv
import json
import glob
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from check_written import read_written  # noqa: E402
from corpus_refs import fold  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
LABELS = ["negative", "neutral", "positive"]


def read_tsv(path: str) -> list[dict]:
    with open(path, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE))


def cohen_kappa(a: list[str], b: list[str]) -> float:
    n = len(a)
    observed = sum(x == y for x, y in zip(a, b)) / n
    expected = sum((a.count(label) / n) * (b.count(label) / n) for label in LABELS)
    return (observed - expected) / (1 - expected)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--work", default=os.path.join(REPO, "models", "sentiment-bert", "train", ".work", "labelling"))
    args = p.parse_args()
    refs = {r["id"]: r for r in read_tsv(os.path.join(args.work, "refs.tsv"))}
    first, batch_of = {}, {}
    k = 1
    while os.path.exists(os.path.join(args.work, f"labels-{k}.tsv")):
        batch_ids = [r["id"] for r in read_tsv(os.path.join(args.work, f"batch-{k}.tsv"))]
        labels = {r["id"]: r["label"] for r in read_tsv(os.path.join(args.work, f"labels-{k}.tsv"))}
        assert sorted(labels) == sorted(batch_ids), f"labels-{k}.tsv does not label exactly batch-{k}.tsv's texts"
        for i in batch_ids:
            first[i], batch_of[i] = labels[i], f"real-l{k}"
        k += 1
    assert sorted(first) == sorted(refs), "some drawn texts have no first-pass label"
    second = {r["id"]: r["label"] for r in read_tsv(os.path.join(args.work, "labels-second.tsv"))}
    adjudicated = {r["id"]: r for r in read_tsv(os.path.join(args.work, "adjudicated.tsv"))}
    disagreements = [i for i in second if second[i] != first[i]]
    assert sorted(disagreements) == sorted(adjudicated), "adjudicated.tsv must settle exactly the disagreements"
    for label in list(first.values()) + list(second.values()) + [r["label"] for r in adjudicated.values()]:
        assert label in LABELS, label

    final = {i: adjudicated[i]["label"] if i in adjudicated else first[i] for i in first}
    os.makedirs(os.path.join(HERE, "real"), exist_ok=True)
    os.makedirs(os.path.join(HERE, "agreement"), exist_ok=True)
    with open(os.path.join(HERE, "real", "labels.tsv"), "w", encoding="utf-8") as f:
        f.write("id\tref\tsha1\tlabel\tbatch\n")
        for i in sorted(final):
            f.write(f"{i}\t{refs[i]['ref']}\t{refs[i]['sha1']}\t{final[i]}\t{batch_of[i]}\n")
    with open(os.path.join(HERE, "agreement", "second-pass.tsv"), "w", encoding="utf-8") as f:
        f.write("id\tlabel\n")
        for i in second:
            f.write(f"{i}\t{second[i]}\n")
    with open(os.path.join(HERE, "agreement", "adjudicated.tsv"), "w", encoding="utf-8") as f:
        f.write("id\tfirst\tsecond\tfinal\tnote\n")
        for i in disagreements:
            f.write(f"{i}\t{first[i]}\t{second[i]}\t{adjudicated[i]['label']}\t{adjudicated[i]['note']}\n")

    ids = list(second)
    a, b = [first[i] for i in ids], [second[i] for i in ids]
    source_of = lambda i: refs[i]["ref"].split(":")[0]  # noqa: E731
    per_source = collections.defaultdict(lambda: ([], []))
    for i in ids:
        per_source[source_of(i)][0].append(first[i])
        per_source[source_of(i)][1].append(second[i])
    report = {
        "texts_labelled": len(first),
        "second_pass": {
            "texts": len(ids),
            "cohen_kappa": round(cohen_kappa(a, b), 4),
            "raw_agreement": round(sum(x == y for x, y in zip(a, b)) / len(ids), 4),
            "confusion_first_by_second": {x: {y: sum(1 for p, q in zip(a, b) if p == x and q == y) for y in LABELS} for x in LABELS},
            "kappa_by_source": {s: {"texts": len(v[0]), "cohen_kappa": round(cohen_kappa(*v), 4)} for s, v in sorted(per_source.items())},
            "disagreements": len(disagreements),
            "adjudicated_to": dict(collections.Counter(r["label"] for r in adjudicated.values())),
        },
        "final_class_balance": dict(sorted(collections.Counter(final.values()).items())),
        "by_source": {s: dict(sorted(collections.Counter(final[i] for i in final if source_of(i) == s).items()))
                      for s in sorted({source_of(i) for i in final})},
    }
    written_sample = os.path.join(args.work, "written-second.tsv")
    if os.path.exists(written_sample):
        report["written_second_pass"] = written_agreement(args.work)
    with open(os.path.join(HERE, "agreement", "report.json"), "w", encoding="utf-8") as f:
        json.dump(report, f, indent=1)
        f.write("\n")
    print(json.dumps({k: report[k] for k in ("second_pass", "written_second_pass", "final_class_balance") if k in report}, indent=1))


def written_agreement(work: str) -> dict:
    """Kappa of the writers' own labels against a blind second pass over a sample of their texts (matched by text)."""
    writer_label = {}
    for path in sorted(glob.glob(os.path.join(HERE, "written", "*.tsv"))):
        for _, row in read_written(path):
            writer_label[fold(row["text"])] = (row["text"], row["label"], row["batch"])
    texts = {r["id"]: r["text"] for r in read_tsv(os.path.join(work, "written-second.tsv"))}
    second = {r["id"]: r["label"] for r in read_tsv(os.path.join(work, "labels-written-second.tsv"))}
    pairs = [(writer_label[fold(texts[i])], second[i]) for i in texts if fold(texts[i]) in writer_label]
    with open(os.path.join(HERE, "agreement", "written-second-pass.tsv"), "w", encoding="utf-8") as f:
        f.write("text\tbatch\tfirst\tsecond\n")
        for (text, label, batch), other in pairs:
            f.write(f"{text}\t{batch}\t{label}\t{other}\n")
    a, b = [p[0][1] for p in pairs], [p[1] for p in pairs]
    return {"texts": len(pairs), "sampled": len(texts), "cohen_kappa": round(cohen_kappa(a, b), 4),
            "raw_agreement": round(sum(x == y for x, y in zip(a, b)) / len(pairs), 4),
            "confusion_writer_by_second": {x: {y: sum(1 for p, q in zip(a, b) if p == x and q == y) for y in LABELS} for x in LABELS}}


if __name__ == "__main__":
    main()
