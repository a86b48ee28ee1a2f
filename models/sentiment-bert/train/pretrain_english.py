#!/usr/bin/env python3
"""English masked-LM pre-training for sentiment-bert 3: the economic and general prose of ../shared/data/corpus/
together with every finance text of ../shared/data, before fine-tuning.

The encoder continues from a shipped version's weights (same WordPiece vocabulary; `--init`, default 2.0.0) and
trains for a wall-clock budget rather than a number of epochs, so the same command fits a CPU (hours) and a GPU
(minutes): the learning-rate schedule is laid out over the steps that the first steps' speed says will fit.
Corpus lines are split into sentences and packed into sequences of up to `--seq-length` tokens; finance texts
(tweets, headlines) are one sequence each. No text of an evaluation or development set is included (same keys as
train_sentiment.py). Writes the encoder (fp16 state dict) and a JSON record of the run; `--resume` continues
from such a checkpoint.

Usage: /usr/bin/python3 models/sentiment-bert/train/pretrain_english.py --minutes 60 [--out FILE.pt]
"""
from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "data"))
import wordpiece as wp  # noqa: E402
from bert import BertConfig, BertForMaskedLM  # noqa: E402
from corpus_refs import sentence_spans  # noqa: E402
from train_sentiment import (MODEL_DIR, REPO, batches, key, load_data, mlm_step, read_vocab, schedule,  # noqa: E402
                             shipped_model, start_run)

CORPUS_FILES = ["fomc_minutes.txt", "fomc_statements.txt", "sotu.txt", "brown.txt", "wordnet_glosses.txt"]


def parse_args():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", default=os.path.join(REPO, "..", "shared", "data"))
    p.add_argument("--init", default=os.path.join(MODEL_DIR, "versions", "2.0.0"),
                   help="shipped sentiment-bert folder whose encoder is continued "
                        "(version 2.0.0; it was the top-level folder when 3.0.0 was trained)")
    p.add_argument("--resume", default=None, help="a checkpoint written by this script")
    p.add_argument("--out", default=os.path.join(MODEL_DIR, "train", "checkpoints", "english-mlm.pt"))
    p.add_argument("--minutes", type=float, default=85.0)
    p.add_argument("--seq-length", type=int, default=64)
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--lr", type=float, default=2e-4)
    p.add_argument("--threads", type=int, default=os.cpu_count())
    p.add_argument("--device", default="auto")
    p.add_argument("--seed", type=int, default=13)
    return p.parse_args()


def corpus_sequences(data, tok, seq_length, held):
    """Each corpus line's sentences, packed greedily into sequences of at most seq_length tokens."""
    body = seq_length - 2
    for name in CORPUS_FILES:
        with open(os.path.join(data, "corpus", name), encoding="utf-8") as f:
            for line in f:
                pieces: list[int] = []
                for start, end in sentence_spans(line):
                    sentence = line[start:end]
                    if key(sentence) in held:
                        continue
                    ids = tok.encode(sentence, seq_length)[1:-1]
                    if pieces and len(pieces) + len(ids) > body:
                        yield [wp.CLS] + pieces[:body] + [wp.SEP]
                        pieces = []
                    pieces += ids
                if pieces:
                    yield [wp.CLS] + pieces[:body] + [wp.SEP]


def main():
    args = parse_args()
    device, started, log = start_run(args)
    rng, gen = random.Random(args.seed), torch.Generator().manual_seed(args.seed)

    data, news_mlm, scratch_mlm, _, _ = load_data(args.data, args.seed)
    held = {key(t) for name in ("tweets_valid", "news_test", "fiqa_headlines", "news_dev", "tweets_dev")
            for t, _ in data[name]}
    vocab = read_vocab(args.init)
    tok = wp.WordPiece(vocab)
    cfg = BertConfig(vocab_size=len(vocab), max_position_embeddings=128)
    english = list(corpus_sequences(args.data, tok, args.seq_length, held))
    finance = [tok.encode(t, args.seq_length) for t in scratch_mlm]  # already free of held-out texts
    seqs = english + finance
    log(f"{len(english)} corpus sequences, {len(finance)} finance texts; device {device}")

    model = BertForMaskedLM(cfg).to(device)
    record = {"init": os.path.relpath(args.init, REPO), "history": [], "seconds": 0.0, "steps": 0}
    if args.resume:
        saved = torch.load(args.resume, map_location="cpu")
        model.bert.load_state_dict({k: v.float() for k, v in saved["encoder"].items()})
        model.load_state_dict({k: v.float() for k, v in saved["head"].items()}, strict=False)
        record = saved["record"]
        log(f"resumed from {args.resume} after {record['steps']} steps")
    else:
        start, _ = shipped_model(args.init, cfg)
        model.bert.load_state_dict(start.bert.state_dict())
        # The MLM head's decoder shares the word embeddings; its transform starts fresh.
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.01)
    budget = args.minutes * 60
    planned, sched = None, None
    step, window, window_n = 0, 0.0, 0
    epoch = 0
    model.train()
    train_started = time.time()
    budget -= train_started - started  # reading the corpus counts against the budget
    while time.time() - train_started < budget:
        epoch += 1
        for ids, mask, _ in batches(seqs, None, args.batch_size, True, rng):
            loss = mlm_step(model, opt, ids, mask, cfg.vocab_size, gen, device)
            step += 1
            if sched is not None:
                sched.step()
            elif step == 20:  # lay the schedule out over the steps that fit the budget at this speed
                per_step = (time.time() - train_started) / step
                planned = max(step + 1, int(budget / per_step))
                sched = schedule(opt, planned, max(1, planned // 20))
                for _ in range(step):
                    sched.step()
                log(f"{per_step:.2f} s a step: {planned} steps planned ({planned * args.batch_size / len(seqs):.2f} epochs)")
            window, window_n = window + loss, window_n + 1
            if step % 200 == 0:
                record["history"].append({"step": record["steps"] + step, "loss": round(window / window_n, 4)})
                log(f"step {step} epoch {epoch} loss {window / window_n:.3f}")
                window, window_n = 0.0, 0
            if time.time() - train_started >= budget or (planned and step >= planned):
                break
        if planned and step >= planned:
            break
    if window_n:
        record["history"].append({"step": record["steps"] + step, "loss": round(window / window_n, 4)})
    record.update({"steps": record["steps"] + step, "seconds": round(record["seconds"] + time.time() - started, 1),
                   "sequences": {"corpus": len(english), "finance": len(finance)}, "seq_length": args.seq_length,
                   "batch_size": args.batch_size, "lr": args.lr, "device": str(device),
                   "threads": torch.get_num_threads(), "final_loss": record["history"][-1]["loss"]})
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    torch.save({"encoder": {k: v.half() for k, v in model.bert.state_dict().items()},
                "head": {k: v.half() for k, v in model.state_dict().items() if not k.startswith("bert.")},
                "record": record}, args.out)
    with open(os.path.splitext(args.out)[0] + ".json", "w") as f:
        json.dump(record, f, indent=1)
    log(f"wrote {args.out}: {record['steps']} steps, final loss {record['final_loss']}")


if __name__ == "__main__":
    main()
