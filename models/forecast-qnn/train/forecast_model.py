"""Forecast model: the monotone quantile network, its pinball-loss training with early stopping, and its ONNX export."""
from __future__ import annotations

import torch

from forecast_data import HORIZONS, N_FEATURES, QUANTILES


SEED = 7


class QuantileNet(torch.nn.Module):
    """Monotone quantiles: the lowest is free, each next one adds a softplus step."""

    def __init__(self):
        super().__init__()
        self.body = torch.nn.Sequential(torch.nn.Linear(N_FEATURES, 64), torch.nn.GELU(), torch.nn.Linear(64, 64), torch.nn.GELU(),
                                        torch.nn.Linear(64, len(HORIZONS) * len(QUANTILES)))

    def forward(self, features):
        raw = self.body(features).reshape(-1, len(HORIZONS), len(QUANTILES))
        first = raw[:, :, :1]
        steps = torch.nn.functional.softplus(raw[:, :, 1:]) + 1e-4
        return torch.cat([first, first + torch.cumsum(steps, dim=2)], dim=2)


def pinball(pred, y, qs):
    diff = y.unsqueeze(-1) - pred
    return torch.mean(torch.maximum(qs * diff, (qs - 1) * diff))


def train(xtr, ytr, xva, yva, log):
    torch.manual_seed(SEED)
    net = QuantileNet()
    opt = torch.optim.Adam(net.parameters(), lr=1e-3, weight_decay=1e-5)
    qs = torch.tensor(QUANTILES)
    xtr_t, ytr_t, xva_t, yva_t = map(torch.from_numpy, (xtr, ytr, xva, yva))
    best, best_state, patience = float("inf"), None, 0
    gen = torch.Generator().manual_seed(SEED)
    for epoch in range(60):
        net.train()
        perm = torch.randperm(len(xtr_t), generator=gen)
        for i in range(0, len(perm), 512):
            idx = perm[i:i + 512]
            loss = pinball(net(xtr_t[idx]), ytr_t[idx], qs)
            opt.zero_grad()
            loss.backward()
            opt.step()
        net.eval()
        with torch.no_grad():
            val = float(pinball(net(xva_t), yva_t, qs))
        if val < best - 1e-5:
            best, best_state, patience = val, {k: v.clone() for k, v in net.state_dict().items()}, 0
        else:
            patience += 1
        if epoch % 10 == 0 or patience == 0:
            log(f"epoch {epoch + 1} validation pinball {val:.5f}")
        if patience >= 8:
            break
    net.load_state_dict(best_state)
    return net, best


def export(net, path):
    net.eval()
    dummy = torch.zeros(1, N_FEATURES)
    kwargs = dict(input_names=["features"], output_names=["quantiles"], dynamic_axes={"features": {0: "batch"}, "quantiles": {0: "batch"}},
                  opset_version=14)
    import inspect
    if "dynamo" in inspect.signature(torch.onnx.export).parameters:
        kwargs["dynamo"] = False
    torch.onnx.export(net, dummy, path, **kwargs)
