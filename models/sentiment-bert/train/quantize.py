"""Dynamic int8 quantisation of an ONNX graph's weight MatMuls and embedding tables, using only `onnx`.

Same scheme as onnxruntime's quantize_dynamic (per-channel, signed int8 weights; activations quantised
to uint8 at run time by DynamicQuantizeLinear; MatMulInteger; rescale), written here so that the training
run needs no onnxruntime Python wheel:

    X -> DynamicQuantizeLinear -> (Xq, Xs, Xzp)
    MatMulInteger(Xq, Wq, Xzp, Wzp) -> Cast(float) -> Mul(Xs * Ws) -> Y
"""
from __future__ import annotations

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def quantize_dynamic(src: str, dst: str, min_elements: int = 4096) -> dict:
    model = onnx.load(src)
    graph = model.graph
    inits = {t.name: t for t in graph.initializer}
    new_nodes, dropped_inits, count, gathers = [], set(), 0, 0
    for node in graph.node:
        table = inits.get(node.input[0]) if node.op_type == "Gather" else None
        if table is not None and table.data_type == TensorProto.FLOAT and len(table.dims) == 2 \
                and np.prod(table.dims) >= min_elements and not _attr(node, "axis"):
            new_nodes += _quantize_gather(graph, node, table)
            dropped_inits.add(table.name)
            gathers += 1
            continue
        w = inits.get(node.input[1]) if node.op_type == "MatMul" and len(node.input) == 2 else None
        if w is None or w.data_type != TensorProto.FLOAT or len(w.dims) != 2 or np.prod(w.dims) < min_elements:
            new_nodes.append(node)
            continue
        count += 1
        weight = numpy_helper.to_array(w).astype(np.float32)
        # Per output column, symmetric: scale = max|w| / 127, zero point 0.
        scale = np.maximum(np.abs(weight).max(axis=0), 1e-8) / 127.0
        wq = np.clip(np.round(weight / scale), -127, 127).astype(np.int8)
        p = f"{w.name}_q"
        graph.initializer.extend([
            numpy_helper.from_array(wq, p),
            numpy_helper.from_array(scale.astype(np.float32), p + "_scale"),
            numpy_helper.from_array(np.zeros(weight.shape[1], dtype=np.int8), p + "_zp"),
        ])
        dropped_inits.add(w.name)
        x, y, n = node.input[0], node.output[0], node.name or f"matmul{count}"
        new_nodes += [
            helper.make_node("DynamicQuantizeLinear", [x], [f"{n}_xq", f"{n}_xs", f"{n}_xzp"], name=f"{n}_dql"),
            helper.make_node("MatMulInteger", [f"{n}_xq", p, f"{n}_xzp", p + "_zp"], [f"{n}_i32"], name=f"{n}_mmi"),
            helper.make_node("Cast", [f"{n}_i32"], [f"{n}_f32"], to=TensorProto.FLOAT, name=f"{n}_cast"),
            helper.make_node("Mul", [f"{n}_xs", p + "_scale"], [f"{n}_s"], name=f"{n}_scale"),
            helper.make_node("Mul", [f"{n}_f32", f"{n}_s"], [y], name=f"{n}_rescale"),
        ]
    del graph.node[:]
    graph.node.extend(new_nodes)
    kept = [t for t in graph.initializer if t.name not in dropped_inits]
    del graph.initializer[:]
    graph.initializer.extend(kept)
    onnx.checker.check_model(model)
    onnx.save(model, dst)
    return {"quantized_matmuls": count, "quantized_embedding_tables": gathers}


def _attr(node, name):
    return next((helper.get_attribute_value(a) for a in node.attribute if a.name == name), None)


def _quantize_gather(graph, node, table):
    """Embedding table -> int8 rows with one scale per row; gathered rows are rescaled after lookup."""
    weight = numpy_helper.to_array(table).astype(np.float32)
    scale = np.maximum(np.abs(weight).max(axis=1, keepdims=True), 1e-8) / 127.0
    wq = np.clip(np.round(weight / scale), -127, 127).astype(np.int8)
    p, n, ids = f"{table.name}_q", node.name or table.name, node.input[1]
    graph.initializer.extend([numpy_helper.from_array(wq, p),
                              numpy_helper.from_array(scale.astype(np.float32), p + "_scale")])
    return [
        helper.make_node("Gather", [p, ids], [f"{n}_i8"], name=f"{n}_gq"),
        helper.make_node("Cast", [f"{n}_i8"], [f"{n}_f32"], to=TensorProto.FLOAT, name=f"{n}_cast"),
        helper.make_node("Gather", [p + "_scale", ids], [f"{n}_s"], name=f"{n}_gs"),
        helper.make_node("Mul", [f"{n}_f32", f"{n}_s"], [node.output[0]], name=f"{n}_rescale"),
    ]
