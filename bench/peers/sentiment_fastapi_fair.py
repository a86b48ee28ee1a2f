#!/usr/bin/env python3
"""The sentiment model served as a competent Python team would serve it, for npm run bench:sentiment.

FastAPI + uvicorn (one process) with an asyncio micro-batcher: requests put their texts on a queue; one batcher task
takes whatever has gathered (up to --max-batch texts, waiting at most --max-wait-ms for company once the inference
thread is free) and runs it on ONE inference thread under torch.inference_mode(), with torch.set_num_threads set
for the machine. Texts are sorted by length and padded per batch. --int8 applies torch's quantize_dynamic (int8
Linear layers, as the gateway runs int8).

Weights: the same as the gateway's. The fine-tuned model's only committed form is its int8 ONNX file
(models/sentiment-bert/onnx/model_quantized.onnx; training keeps no fp32 .pt of it): every int8 table is
dequantised (value x scale) into the project's own PyTorch BERT (train/bert.py) by train/onnx_weights.py, the same
path training uses to continue from a shipped version. Same tokenizer (the training WordPiece, which mirrors
tokenizer.json). bench:sentiment checks that it gives the gateway's label on 200 of 200 texts before timing it.

POST /predict {"texts": ["..."]} -> [{"label": "positive", "score": 0.93}, ...]
Usage: /usr/bin/python3 bench/peers/sentiment_fastapi_fair.py --port 8000 [--threads 2] [--int8]
"""
from __future__ import annotations

import argparse
import asyncio
import os
import sys
from concurrent.futures import ThreadPoolExecutor

import torch
import uvicorn
from fastapi import FastAPI
from pydantic import BaseModel, Field

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sentiment_weights import PAD, REPO, load as load_fp32  # noqa: E402


def load(model_dir: str, int8: bool):
    model, tokenizer, labels, max_length = load_fp32(model_dir)
    if int8:
        model = torch.quantization.quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8)
    return model, tokenizer, labels, max_length


class Texts(BaseModel):
    texts: list[str] = Field(min_items=1, max_items=256)


def create_app(model_dir: str, int8: bool, max_batch: int, max_wait_ms: float) -> FastAPI:
    model, tokenizer, labels, max_length = load(model_dir, int8)
    infer_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="inference")
    queue: asyncio.Queue = asyncio.Queue()
    app = FastAPI()

    def infer(seqs: list[list[int]]) -> list[tuple[str, float]]:
        order = sorted(range(len(seqs)), key=lambda i: len(seqs[i]))
        width = len(seqs[order[-1]])
        ids = torch.zeros((len(seqs), width), dtype=torch.long)
        for r, i in enumerate(order):
            ids[r, :len(seqs[i])] = torch.tensor(seqs[i])
        with torch.inference_mode():
            probs = model(ids, (ids != PAD).long(), torch.zeros_like(ids)).softmax(-1)
        best = probs.max(-1)
        out: list[tuple[str, float]] = [("", 0.0)] * len(seqs)
        for r, i in enumerate(order):
            out[i] = (labels[int(best.indices[r])], float(best.values[r]))
        return out

    async def batcher() -> None:
        loop = asyncio.get_running_loop()
        while True:
            items = [await queue.get()]
            deadline = loop.time() + max_wait_ms / 1000
            while len(items) < max_batch:
                try:
                    items.append(queue.get_nowait())
                    continue
                except asyncio.QueueEmpty:
                    pass
                remaining = deadline - loop.time()
                if remaining <= 0:
                    break
                try:
                    items.append(await asyncio.wait_for(queue.get(), remaining))
                except asyncio.TimeoutError:
                    break
            try:
                results = await loop.run_in_executor(infer_thread, infer, [seq for seq, _ in items])
                for (_, future), result in zip(items, results):
                    if not future.done():
                        future.set_result(result)
            except Exception as error:  # one failed batch fails its callers, not the batcher
                for _, future in items:
                    if not future.done():
                        future.set_exception(error)

    @app.on_event("startup")
    async def start_batcher() -> None:
        app.state.batcher = asyncio.create_task(batcher())

    @app.post("/predict")
    async def predict(body: Texts):
        loop = asyncio.get_running_loop()
        futures = []
        for text in body.texts:
            future = loop.create_future()
            queue.put_nowait((tokenizer.encode(text, max_length), future))
            futures.append(future)
        return [{"label": label, "score": score} for label, score in await asyncio.gather(*futures)]

    return app


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--model", default=os.path.join(REPO, "models", "sentiment-bert"))
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--int8", action="store_true")
    parser.add_argument("--max-batch", type=int, default=64)
    parser.add_argument("--max-wait-ms", type=float, default=2.0)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.set_num_interop_threads(1)
    app = create_app(args.model, args.int8, args.max_batch, args.max_wait_ms)
    print(f"peer ready on http://127.0.0.1:{args.port}/predict", flush=True)
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning", access_log=False)
