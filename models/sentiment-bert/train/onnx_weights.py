"""Read the weights of a shipped sentiment-bert ONNX file (fp32 or this project's int8) back into PyTorch.

Version 2 continues from version 1's encoder, and version 1's only committed form is its int8 ONNX file:
every int8 table is dequantised (value x scale) and each anonymous MatMul weight is matched to its Linear
layer through the bias that the following Add node adds (names follow bert.py).
"""
from __future__ import annotations

import numpy as np
import onnx
import torch
from onnx import numpy_helper


def load_onnx_weights(path: str, model: torch.nn.Module) -> dict:
    graph = onnx.load(path).graph
    inits = {t.name: numpy_helper.to_array(t) for t in graph.initializer}
    consumers: dict[str, list] = {}
    for node in graph.node:
        for name in node.input:
            consumers.setdefault(name, []).append(node)
    state: dict[str, np.ndarray] = {}
    for name, value in inits.items():
        if name.endswith("_q") and name + "_scale" in inits and name + "_zp" not in inits:
            state[name[:-2]] = value.astype(np.float32) * inits[name + "_scale"]  # embedding table, per-row scale
        elif not name.startswith("onnx::") and not name.endswith(("_scale", "_zp", "_q")):
            state[name] = value
    for node in graph.node:
        weight = _matmul_weight(node, inits)
        if weight is None:
            continue
        bias = _following_bias(node.output[0], consumers, inits, graph)
        if bias is None:
            raise ValueError(f"cannot place MatMul weight {node.input[1]}: no bias follows it")
        state[bias[: -len("bias")] + "weight"] = weight.T  # ONNX MatMul is x @ W, torch Linear is x @ W.T
    own = model.state_dict()
    missing = [k for k in own if k not in state]
    loaded = {k: torch.tensor(np.ascontiguousarray(state[k]), dtype=own[k].dtype).reshape(own[k].shape)
              for k in own if k in state}
    model.load_state_dict(loaded, strict=False)
    return {"loaded": len(loaded), "missing": missing}


def _matmul_weight(node, inits):
    if node.op_type == "MatMul" and node.input[1] in inits:
        return inits[node.input[1]].astype(np.float32)
    if node.op_type == "MatMulInteger" and node.input[1] in inits:
        w = node.input[1]
        return inits[w].astype(np.float32) * inits[w + "_scale"][None, :]
    return None


def _following_bias(output, consumers, inits, graph, depth=0):
    """Walk forward through the rescale Cast/Mul nodes to the Add that adds a named bias."""
    if depth > 4:
        return None
    for node in consumers.get(output, []):
        if node.op_type == "Add":
            named = [i for i in node.input if i in inits and i.endswith("bias")]
            if named:
                return named[0]
        if node.op_type in ("Cast", "Mul"):
            found = _following_bias(node.output[0], consumers, inits, graph, depth + 1)
            if found:
                return found
    return None
