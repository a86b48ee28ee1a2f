#!/usr/bin/env python3
"""Draw the real texts the team labels, as references into ../shared/data, and write the labelling batches.

Real texts come from three permissively licensed sources (licences in each folder's SOURCE.md):
  - finance_text/topic_{train,valid}.csv: finance-news tweets from news outlets (MIT), no sentiment labels;
  - finance_text/unlabelled_tweets.csv: investors' stock tweets (MIT), no labels;
  - corpus/fomc_statements.txt and corpus/fomc_minutes.txt: FOMC prose (public domain), split into sentences.
A text is skipped when, after folding case, digits, URLs and punctuation, it equals a text of any labelled set of
../shared/data (SEntFiN, the tweet sentiment files, extra_sentiment.csv: their evaluation splits included) or
another drawn text. The draw is seeded, so the same data gives the same references.

Writes `<work>/batch-K.tsv` (`id<TAB>text`, K = 1..batches) for the first pass and `<work>/second-pass.tsv`
(a seeded sample, in another order) for the blind second pass, plus `<work>/refs.tsv` (`id, ref, sha1`).

Usage: /usr/bin/python3 models/sentiment-bert/data/sample_real.py [--data ../shared/data] [--work DIR]
"""
from __future__ import annotations

import argparse
import hashlib
import os
import random
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
sys.path.insert(0, HERE)
from corpus_refs import fold, read_csv_rows, sentence_spans  # noqa: E402

# How many texts to draw from each source (the first pass labels all of them).
QUOTA = {"topic": 4200, "unlabelled_tweets": 700, "fomc_statements": 400, "fomc_minutes": 500}
ECONOMIC = re.compile(r"\b(inflation|growth|employment|unemployment|spending|prices|economic|activity|markets?|"
                      r"output|investment|demand|labor|wages|housing|exports|credit|outlook|recovery)\b", re.I)


def labelled_keys(data: str) -> set[str]:
    keys = set()
    for path in ("news/sentfin.csv", "sentiment/train.csv", "sentiment/valid.csv", "finance_text/extra_sentiment.csv"):
        for row in read_csv_rows(os.path.join(data, path)):
            keys.add(fold(row["text"]))
    return keys


def corpus_sentences(data: str, name: str):
    """(ref, text) for each sentence of 60..320 characters that talks about the economy."""
    with open(os.path.join(data, "corpus", name), encoding="utf-8") as f:
        for line_no, line in enumerate(f):
            for start, end in sentence_spans(line):
                text = line[start:end]
                if 60 <= len(text) <= 320 and ECONOMIC.search(text):
                    yield f"corpus/{name}:{line_no}:{start}:{end}", text


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", default=os.path.join(REPO, "..", "shared", "data"))
    p.add_argument("--work", default=os.path.join(REPO, "models", "sentiment-bert", "train", ".work", "labelling"))
    p.add_argument("--batches", type=int, default=3)
    p.add_argument("--second-pass", type=int, default=1200)
    p.add_argument("--seed", type=int, default=29)
    args = p.parse_args()
    rng = random.Random(args.seed)
    seen = labelled_keys(args.data)

    pools: dict[str, list[tuple[str, str]]] = {k: [] for k in QUOTA}
    for name in ("topic_train.csv", "topic_valid.csv"):
        for i, row in enumerate(read_csv_rows(os.path.join(args.data, "finance_text", name))):
            pools["topic"].append((f"finance_text/{name}:{i}", row["text"]))
    for i, row in enumerate(read_csv_rows(os.path.join(args.data, "finance_text", "unlabelled_tweets.csv"))):
        pools["unlabelled_tweets"].append((f"finance_text/unlabelled_tweets.csv:{i}", row["text"]))
    pools["fomc_statements"] = list(corpus_sentences(args.data, "fomc_statements.txt"))
    pools["fomc_minutes"] = list(corpus_sentences(args.data, "fomc_minutes.txt"))

    drawn: list[tuple[str, str]] = []
    for source, quota in QUOTA.items():
        pool = pools[source]
        rng.shuffle(pool)
        taken = 0
        for ref, text in pool:
            k = fold(text)
            if taken == quota:
                break
            if len(k) < 12 or k in seen:
                continue
            seen.add(k)
            drawn.append((ref, text))
            taken += 1
        print(f"{source}: {taken} of {len(pool)}")
    rng.shuffle(drawn)

    os.makedirs(args.work, exist_ok=True)
    clean = lambda t: " ".join(t.split())  # noqa: E731 - one line per text for the labellers
    with open(os.path.join(args.work, "refs.tsv"), "w", encoding="utf-8") as f:
        f.write("id\tref\tsha1\n")
        for i, (ref, text) in enumerate(drawn):
            f.write(f"r{i:05d}\t{ref}\t{hashlib.sha1(text.encode()).hexdigest()}\n")
    size = -(-len(drawn) // args.batches)
    for b in range(args.batches):
        with open(os.path.join(args.work, f"batch-{b + 1}.tsv"), "w", encoding="utf-8") as f:
            f.write("id\ttext\n")
            for i in range(b * size, min(len(drawn), (b + 1) * size)):
                f.write(f"r{i:05d}\t{clean(drawn[i][1])}\n")
    second = sorted(rng.sample(range(len(drawn)), args.second_pass), key=lambda _: rng.random())
    with open(os.path.join(args.work, "second-pass.tsv"), "w", encoding="utf-8") as f:
        f.write("id\ttext\n")
        for i in second:
            f.write(f"r{i:05d}\t{clean(drawn[i][1])}\n")
    print(f"{len(drawn)} texts in {args.batches} batches, {len(second)} for the second pass, in {args.work}")


if __name__ == "__main__":
    main()
