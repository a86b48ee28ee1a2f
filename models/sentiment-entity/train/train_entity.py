#!/usr/bin/env python3
"""Train sentiment-entity: the sentiment of a text toward one company it names, for transformers.js.

The model is the same kind of BERT as sentiment-bert, given the text with every occurrence of the target wrapped in
markers ("<< Apple >> gains as Samsung slumps"), one forward pass per (text, target) pair; the gateway marks the
text the same way (src/domains/sentiment/target-markers.ts).

Data (read in place from ../shared/data; licences in each SOURCE.md):
- SEntFiN's entity labels, split by headline with sentiment-bert's split (news_split.json), so a headline's entities
  stay on one side: train pairs train, dev pairs choose the epoch and the temperature, test pairs are the held-out
  evaluation (never looked at before the end), with its headlines whose entities disagree reported on their own;
- the team's entity labels of its written multi-company texts (models/sentiment-bert/data/entities/), training only;
- sentence-level rows of sentiment-bert's training data whose text names exactly one SEntFiN-style entity are not
  used: a text-level label is not a label for every name in it.
The encoder starts from sentiment-bert's fine-tuned encoder, which train_sentiment.py leaves in its .work folder (npm run
train:sentiment first): it already reads sentence-level sentiment, and the markers teach it whose.

Usage: /usr/bin/python3 models/sentiment-entity/train/train_entity.py [--data ../shared/data] [--ft-epochs 4]
"""
from __future__ import annotations

import argparse
import csv
import glob
import json
import os
import random
import re
import sys
import time

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
SENTIMENT = os.path.join(REPO, "models", "sentiment-bert")
sys.path.insert(0, os.path.join(SENTIMENT, "train"))
sys.path.insert(0, os.path.join(SENTIMENT, "data"))
import wordpiece as wp  # noqa: E402
from bert import BertConfig  # noqa: E402
from check_written import read_written  # noqa: E402
from quantize import quantize_dynamic  # noqa: E402
from train_sentiment import (LABELS, export_onnx, finetune, fit_temperature, logits_of, read, read_vocab, scores,  # noqa: E402
                             start_run)

MODEL_DIR = os.path.join(REPO, "models", "sentiment-entity")
ENTITY_RE = re.compile(r"'(.*?)': '(positive|negative|neutral)'")
LABEL_IDS = {label: i for i, label in enumerate(LABELS)}
OPEN, CLOSE = "<<", ">>"


def mark(text: str, target: str) -> str:
    """Every case-insensitive occurrence of the target wrapped in markers (as the gateway does)."""
    return re.sub(re.escape(target), lambda m: f"{OPEN}{m.group(0)}{CLOSE}", text, flags=re.IGNORECASE)


def parse_args():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", default=os.path.join(REPO, "..", "shared", "data"))
    p.add_argument("--out", default=MODEL_DIR)
    p.add_argument("--encoder", default=os.path.join(SENTIMENT, "train", ".work", "sentence-encoder.pt"),
                   help="encoder to start from: sentiment-bert's fine-tuned encoder, left by train_sentiment.py (run it first), "
                        "or its English masked-LM checkpoint (train/checkpoints/english-mlm.pt)")
    p.add_argument("--work", default=os.path.join(MODEL_DIR, "train", ".work"))
    p.add_argument("--device", default="auto")
    p.add_argument("--threads", type=int, default=os.cpu_count())
    p.add_argument("--seed", type=int, default=13)
    p.add_argument("--max-length", type=int, default=128)
    p.add_argument("--train-length", type=int, default=64)
    p.add_argument("--ft-epochs", type=int, default=4)
    p.add_argument("--ft-lr", type=float, default=1e-4)
    return p.parse_args()


def sentfin_pairs(data: str):
    """(split name, headline row, text, target, label) for every SEntFiN entity that occurs in its headline."""
    news = read(os.path.join(data, "news", "sentfin.csv"))
    split = json.load(open(os.path.join(SENTIMENT, "news_split.json")))
    side = {i: "dev" for i in split["dev"]} | {i: "test" for i in split["test"]}
    out = []
    for i in range(len(news)):
        text = news.text[i]
        for target, label in ENTITY_RE.findall(news.entities[i]):
            if target and target.lower() in text.lower():
                out.append((side.get(i, "train"), i, text, target, LABEL_IDS[label]))
    return out


def team_pairs():
    """The team's entity labels of its written multi-company texts (written by the team: training only)."""
    texts = {}
    for path in glob.glob(os.path.join(SENTIMENT, "data", "written", "*.tsv")):
        for line, row in read_written(path):
            texts[f"{os.path.basename(path)}:{line}"] = row["text"]
    out = []
    for path in sorted(glob.glob(os.path.join(SENTIMENT, "data", "entities", "*.tsv"))):
        with open(path, encoding="utf-8", newline="") as f:
            for row in csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE):
                text = texts.get(row["id"])
                if text and row["entity"] and row["entity"].lower() in text.lower():
                    out.append((text, row["entity"], LABEL_IDS[row["label"]]))
    return out


def main():
    args = parse_args()
    args.selection_sets = ("entity_dev",)
    device, started, log = start_run(args)
    rng = random.Random(args.seed)
    os.makedirs(os.path.join(args.out, "onnx"), exist_ok=True)
    os.makedirs(args.work, exist_ok=True)

    vocab = read_vocab(SENTIMENT)
    tok = wp.WordPiece(vocab)
    cfg = BertConfig(vocab_size=len(vocab), max_position_embeddings=args.max_length)
    pairs = sentfin_pairs(args.data)
    team = team_pairs()
    enc = lambda rows, n=args.train_length: [(tok.encode(mark(t, e), n), l) for t, e, l in rows]  # noqa: E731
    by_side = {s: [(t, e, l) for side, _, t, e, l in pairs if side == s] for s in ("train", "dev", "test")}
    train = enc(by_side["train"] + team)
    dev_sets = {"entity_dev": enc(by_side["dev"])}
    log(f"pairs: train {len(by_side['train'])} + team {len(team)}, dev {len(by_side['dev'])}, test {len(by_side['test'])}; device {device}")

    saved = torch.load(args.encoder, map_location="cpu")
    state = {k: v.float() for k, v in saved["encoder"].items()}
    model, selected_epoch, history = finetune(cfg, state, train, dev_sets, args, device, rng, log)

    dev = dev_sets["entity_dev"]
    temperature = fit_temperature(logits_of(model, [s for s, _ in dev], "cpu"), [l for _, l in dev])
    with torch.no_grad():
        model.classifier.weight /= temperature
        model.classifier.bias /= temperature
    # Held-out test pairs, and those of headlines whose entities disagree, scored once, after the choice above.
    test = [(side, i, t, e, l) for side, i, t, e, l in pairs if side == "test"]
    labels_by_row: dict[int, set[int]] = {}
    for _, i, _, _, l in test:
        labels_by_row.setdefault(i, set()).add(l)
    disagree = [(t, e, l) for _, i, t, e, l in test if len(labels_by_row[i]) > 1]
    pytorch = {}
    for name, rows in (("sentfin_test_entities", [(t, e, l) for _, _, t, e, l in test]), ("sentfin_test_disagreeing", disagree)):
        encoded = enc(rows, args.max_length)
        probs = logits_of(model, [s for s, _ in encoded], "cpu").softmax(-1).numpy()
        pytorch[name] = scores([l for _, l in encoded], probs)
    log(f"temperature {temperature:.3f}; pytorch fp32 (calibrated) {pytorch}")

    fp32_path = os.path.join(args.work, "model.onnx")
    export_onnx(model, fp32_path)
    q = quantize_dynamic(fp32_path, os.path.join(args.out, "onnx", "model_quantized.onnx"))
    config = json.load(open(os.path.join(SENTIMENT, "config.json")))
    wp.write_json(os.path.join(args.out, "config.json"), config)
    wp.write_json(os.path.join(args.out, "tokenizer.json"), wp.tokenizer_json(vocab))
    wp.write_json(os.path.join(args.out, "tokenizer_config.json"), wp.tokenizer_config(args.max_length))
    metrics = {
        "task": "targeted-text-classification",
        "markers": [OPEN, CLOSE],
        "data": {"train_pairs": len(by_side["train"]), "team_pairs": len(team), "dev_pairs": len(by_side["dev"]),
                 "test_pairs": len(test), "test_pairs_disagreeing": len(disagree), "split": "sentiment-bert/news_split.json (by headline)"},
        "parameters": sum(p.numel() for p in model.parameters()),
        "training": {"seed": args.seed, "device": str(device), "threads": torch.get_num_threads(),
                     "encoder": os.path.relpath(args.encoder, REPO),
                     "encoder_record": saved["record"], "fine_tune_epochs": args.ft_epochs, "fine_tune_lr": args.ft_lr,
                     "selected_epoch": selected_epoch, "selection": "macro-F1 on SEntFiN dev entity pairs", "history": history,
                     "seconds": round(time.time() - started, 1)},
        "calibration": {"method": "temperature scaling fitted on SEntFiN dev entity pairs, folded into the classifier",
                        "temperature": round(temperature, 4)},
        "pytorch_fp32": pytorch,
        "quantization": {"scheme": "dynamic int8, per-channel weights, uint8 activations", **q},
    }
    wp.write_json(os.path.join(args.out, "metrics.json"), metrics)
    log(f"wrote {args.out}")


if __name__ == "__main__":
    main()
