#!/usr/bin/env python3
"""Two one-node ONNX graphs for the GEMM probe of npm run bench:sentiment: MatMul fp32 and MatMulInteger
(uint8 activations x int8 weights -> int32, the kernel the int8 model's MatMuls run on), both of shape
[M, K] x [K, N] with the weights as initializers, each product summed to one value in the graph so that copying
it out does not count. Usage: gemm_probe_models.py OUT_DIR M K N
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

out, m, k, n = sys.argv[1], *map(int, sys.argv[2:5])
rng = np.random.default_rng(0)
graphs = {
    "matmul_fp32.onnx": helper.make_graph(
        [helper.make_node("MatMul", ["x", "w"], ["p"]), helper.make_node("ReduceSum", ["p"], ["y"], keepdims=0)], "fp32",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [m, k])], [helper.make_tensor_value_info("y", TensorProto.FLOAT, [])],
        [numpy_helper.from_array(rng.standard_normal((k, n)).astype(np.float32), "w")]),
    "matmul_int8.onnx": helper.make_graph(
        [helper.make_node("MatMulInteger", ["x", "w", "xzp", "wzp"], ["p"]),
         helper.make_node("ReduceSum", ["p"], ["y"], keepdims=0)], "int8",
        [helper.make_tensor_value_info("x", TensorProto.UINT8, [m, k])], [helper.make_tensor_value_info("y", TensorProto.INT32, [])],
        [numpy_helper.from_array(rng.integers(-127, 128, (k, n)).astype(np.int8), "w"),
         numpy_helper.from_array(np.array(128, np.uint8), "xzp"), numpy_helper.from_array(np.zeros(n, np.int8), "wzp")]),
}
for name, graph in graphs.items():
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, os.path.join(out, name))
