#!/usr/bin/env python3
"""NAIVE peer, kept for comparison with earlier figures only: one forward pass per request, not a fair competitor.

The fair peer is sentiment_fastapi_fair.py. This one runs each request alone, in FastAPI's 40-thread pool, in fp32,
with PyTorch asking for every core in each thread (npm run bench:sentiment runs it with BENCH_NAIVE_PEER=1).

Same weights as the gateway (read from the model folder's ONNX file into the project's PyTorch BERT), same
tokenizer (the training WordPiece, which mirrors tokenizer.json), same three probabilities. One uvicorn
worker; each request runs its texts as one batch under torch.no_grad() in FastAPI's thread pool; PyTorch
uses every core. Debian's python3-fastapi, python3-uvicorn and python3-torch; no onnxruntime for Python.

POST /predict {"texts": ["..."]} -> [{"label": "positive", "score": 0.93}, ...]
Usage: /usr/bin/python3 bench/peers/sentiment_fastapi_naive.py --port 8000 [--model models/sentiment-bert]
"""
from __future__ import annotations

import argparse
import os
import sys

import torch
import uvicorn
from fastapi import FastAPI
from pydantic import BaseModel, Field

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sentiment_weights import PAD, REPO, load  # noqa: E402


class Texts(BaseModel):
    texts: list[str] = Field(min_items=1, max_items=256)


def create_app(model_dir: str) -> FastAPI:
    model, tokenizer, labels, max_length = load(model_dir)
    app = FastAPI()

    @app.post("/predict")
    def predict(body: Texts):
        seqs = [tokenizer.encode(t, max_length) for t in body.texts]
        width = max(len(s) for s in seqs)
        ids = torch.zeros((len(seqs), width), dtype=torch.long)
        for r, s in enumerate(seqs):
            ids[r, :len(s)] = torch.tensor(s)
        with torch.no_grad():
            probs = model(ids, (ids != PAD).long(), torch.zeros_like(ids)).softmax(-1)
        best = probs.max(-1)
        return [{"label": labels[int(i)], "score": float(p)} for p, i in zip(best.values, best.indices)]

    return app


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--model", default=os.path.join(REPO, "models", "sentiment-bert"))
    args = parser.parse_args()
    torch.set_num_threads(os.cpu_count() or 1)
    app = create_app(args.model)
    print(f"peer ready on http://127.0.0.1:{args.port}/predict", flush=True)
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning")
