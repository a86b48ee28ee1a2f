"""Credit export: fitted trees as plain arrays, the ONNX graph with its contributions output, the same outputs
computed in Python, and features.json."""
from __future__ import annotations

import json
import math
import os

import numpy as np
import onnx
from onnx import TensorProto, helper

from credit_data import FEATURES


CHALLENGER_VERSION = "2.0.0-scorecard"  # versions/<this>: the WoE scorecard, shipped beside the champion


def extract_trees(model):
    """Baseline margin and the trees of a fitted HistGradientBoostingClassifier as plain arrays, with
    every node's expected value (count-weighted mean of the leaf values below it) for path attribution."""
    trees = []
    for (predictor,) in model._predictors:
        n = predictor.nodes
        ev = n["value"].astype(np.float64).copy()
        for i in range(len(n) - 1, -1, -1):  # children always follow their parent
            if not n["is_leaf"][i]:
                l, r = n["left"][i], n["right"][i]
                ev[i] = (n["count"][l] * ev[l] + n["count"][r] * ev[r]) / (n["count"][l] + n["count"][r])
        trees.append({"is_leaf": n["is_leaf"].astype(bool), "feature": n["feature_idx"].astype(int),
                      "threshold": n["num_threshold"].astype(np.float64),
                      "left": n["left"].astype(int), "right": n["right"].astype(int), "ev": ev})
    return float(np.ravel(model._baseline_prediction)[0]), trees


def extract_xgb_trees(booster):
    """Baseline margin and the trees of an XGBoost booster in the same form, renumbered so that children follow
    their parent. XGBoost sends `x < threshold` left (the ONNX mode BRANCH_LT); a node's expected value weighs its
    children by their hessian sums, as XGBoost's own attributions do."""
    model = json.loads(booster.save_raw("json"))
    base_score = float(model["learner"]["learner_model_param"]["base_score"])
    trees = []
    for t in model["learner"]["gradient_booster"]["model"]["trees"]:
        left, right, feature = t["left_children"], t["right_children"], t["split_indices"]
        cond, hess = t["split_conditions"], t["sum_hessian"]
        order, stack = [], [0]
        while stack:  # pre-order walk from the root: skips nodes pruned away
            i = stack.pop()
            order.append(i)
            if left[i] != -1:
                stack += [right[i], left[i]]
        new_id = {old: k for k, old in enumerate(order)}
        is_leaf = np.array([left[i] == -1 for i in order])
        ev = np.array([cond[i] if left[i] == -1 else 0.0 for i in order], np.float64)
        weight = np.array([hess[i] for i in order], np.float64)
        lnew = np.array([new_id[left[i]] if left[i] != -1 else 0 for i in order])
        rnew = np.array([new_id[right[i]] if left[i] != -1 else 0 for i in order])
        for k in range(len(order) - 1, -1, -1):
            if not is_leaf[k]:
                ev[k] = (weight[lnew[k]] * ev[lnew[k]] + weight[rnew[k]] * ev[rnew[k]]) / (weight[lnew[k]] + weight[rnew[k]])
        trees.append({"is_leaf": is_leaf, "feature": np.array([feature[i] if left[i] != -1 else 0 for i in order]),
                      "threshold": np.array([float(np.float32(cond[i])) if left[i] != -1 else 0.0 for i in order]),
                      "left": lnew, "right": rnew, "ev": ev, "strict": True})
    return math.log(base_score / (1 - base_score)), trees


def export_onnx(base, trees, a, b, n_features, path):
    nodes = {k: [] for k in ("treeids", "nodeids", "featureids", "values", "modes", "truenodeids", "falsenodeids")}
    margin_targets = {k: [] for k in ("treeids", "nodeids", "ids", "weights")}
    contrib_targets = {k: [] for k in ("treeids", "nodeids", "ids", "weights")}
    for t_id, t in enumerate(trees):
        path_contrib = {0: {}}
        for n in range(len(t["ev"])):
            leaf = t["is_leaf"][n]
            nodes["treeids"].append(t_id)
            nodes["nodeids"].append(n)
            nodes["featureids"].append(0 if leaf else int(t["feature"][n]))
            nodes["values"].append(0.0 if leaf else float(t["threshold"][n]))
            nodes["modes"].append("LEAF" if leaf else ("BRANCH_LT" if t.get("strict") else "BRANCH_LEQ"))
            nodes["truenodeids"].append(0 if leaf else int(t["left"][n]))
            nodes["falsenodeids"].append(0 if leaf else int(t["right"][n]))
            if leaf:
                margin_targets["treeids"].append(t_id)
                margin_targets["nodeids"].append(n)
                margin_targets["ids"].append(0)
                margin_targets["weights"].append(float(t["ev"][n]))
                for f, w in path_contrib[n].items():
                    contrib_targets["treeids"].append(t_id)
                    contrib_targets["nodeids"].append(n)
                    contrib_targets["ids"].append(f)
                    contrib_targets["weights"].append(float(a * w))
            else:
                f = int(t["feature"][n])
                for child in (t["left"][n], t["right"][n]):
                    c = dict(path_contrib[n])
                    c[f] = c.get(f, 0.0) + t["ev"][child] - t["ev"][n]
                    path_contrib[int(child)] = c

    def ensemble(name, out, targets, n_targets, base_values):
        return helper.make_node(
            "TreeEnsembleRegressor", ["features"], [out], name=name, domain="ai.onnx.ml",
            n_targets=n_targets, aggregate_function="SUM", post_transform="NONE", base_values=base_values,
            nodes_treeids=nodes["treeids"], nodes_nodeids=nodes["nodeids"], nodes_featureids=nodes["featureids"],
            nodes_values=nodes["values"], nodes_modes=nodes["modes"], nodes_truenodeids=nodes["truenodeids"],
            nodes_falsenodeids=nodes["falsenodeids"], nodes_missing_value_tracks_true=[0] * len(nodes["treeids"]),
            target_treeids=targets["treeids"], target_nodeids=targets["nodeids"], target_ids=targets["ids"],
            target_weights=targets["weights"])

    graph = helper.make_graph(
        [
            ensemble("margin_trees", "margin", margin_targets, 1, [base]),
            helper.make_node("Mul", ["margin", "platt_a"], ["scaled"]),
            helper.make_node("Add", ["scaled", "platt_b"], ["logit"]),
            helper.make_node("Sigmoid", ["logit"], ["probability"]),
            ensemble("contribution_trees", "contributions", contrib_targets, n_features, [0.0] * n_features),
        ],
        "credit_default",
        [helper.make_tensor_value_info("features", TensorProto.FLOAT, [None, n_features])],
        [helper.make_tensor_value_info("probability", TensorProto.FLOAT, [None, 1]),
         helper.make_tensor_value_info("contributions", TensorProto.FLOAT, [None, n_features])],
        [helper.make_tensor("platt_a", TensorProto.FLOAT, [], [a]), helper.make_tensor("platt_b", TensorProto.FLOAT, [], [b])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13), helper.make_opsetid("ai.onnx.ml", 3)],
                              producer_name="fin-intel-gateway credit training")
    onnx.checker.check_model(model)
    onnx.save(model, path)
    return a * (base + sum(t["ev"][0] for t in trees)) + b


def reference_outputs(base, trees, a, b, x):
    """Margin, calibrated probability and contributions computed by walking the exported trees in
    Python (all rows at once, a level at a time): the ONNX graph must give the same, and the margin
    must equal the model's own."""
    rows = np.arange(len(x))
    margin = np.full(len(x), base)
    contrib = np.zeros(x.shape, dtype=np.float64)
    for t in trees:
        n = np.zeros(len(x), dtype=int)
        inner = ~t["is_leaf"][n]
        while inner.any():
            r, node = rows[inner], n[inner]
            f = t["feature"][node]
            v, threshold = x[r, f], t["threshold"][node]
            goes_left = v < threshold if t.get("strict") else v <= threshold
            child = np.where(goes_left, t["left"][node], t["right"][node])
            np.add.at(contrib, (r, f), a * (t["ev"][child] - t["ev"][node]))
            n[inner] = child
            inner = ~t["is_leaf"][n]
        margin += t["ev"][n]
    return margin, 1 / (1 + np.exp(-(a * margin + b))), contrib


def write_features(directory, encodings):
    """features.json: the version's input contract, which the gateway follows by name."""
    features = [{"index": i, "name": n, "reasonCode": c, "description": d, **({"encoding": encodings[n]} if n in encodings else {})}
                for i, (n, c, d) in enumerate(FEATURES)]
    with open(os.path.join(directory, "features.json"), "w") as f:
        json.dump({"features": features, "inputs": "features [N, %d] float32" % len(FEATURES),
                   "encoding": "a feature with an encoding enters the model as table[code], "
                               "its code first lowered to clampAbove when that is set",
                   "outputs": ["probability [N, 1]", "contributions [N, %d]" % len(FEATURES)]}, f, indent=1)
        f.write("\n")
